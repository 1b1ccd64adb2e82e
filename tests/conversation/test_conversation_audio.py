"""FormattedItem (lazy, amortised O(1) item audio) and InputAudioRing (bounded input audio)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from realtime_widget.conversation import FormattedItem, InputAudioRing


def chunks(seed: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(-32768, 32768, rng.integers(1, 500)).astype(np.int16) for _ in range(count)
    ]


def test_formatted_item_reads_the_concatenation_of_appended_chunks():
    formatted = FormattedItem()
    parts = chunks(0, 50)
    for part in parts:
        formatted.append_audio(part)
    assert formatted.audio_length == sum(len(p) for p in parts)
    np.testing.assert_array_equal(formatted["audio"], np.concatenate(parts))


@pytest.mark.parametrize(
    "read",
    [
        lambda f: f.get("audio"),
        lambda f: dict(f)["audio"],
        lambda f: {**f}["audio"],
        lambda f: dict(f.items())["audio"],
        lambda f: list(f.values())[2],
        lambda f: f.copy()["audio"],
        lambda f: copy.deepcopy(f)["audio"],
        lambda f: copy.copy(f)["audio"],
        lambda f: pickle.loads(pickle.dumps(f))["audio"],
    ],
    ids=["get", "dict", "unpack", "items", "values", "copy", "deepcopy", "copy.copy", "pickle"],
)
def test_formatted_item_every_ordinary_read_sees_the_assembled_audio(read):
    formatted = FormattedItem(text="t")
    formatted.append_audio(np.array([1, 2], np.int16))
    formatted.append_audio(np.array([3], np.int16))
    assert read(formatted).tolist() == [1, 2, 3]


def test_formatted_item_repr_shows_the_assembled_audio():
    formatted = FormattedItem()
    formatted.append_audio(np.array([7, 8], np.int16))
    assert "array([7, 8], dtype=int16)" in repr(formatted)


def test_formatted_item_copies_do_not_share_later_appends():
    formatted = FormattedItem()
    formatted.append_audio(np.array([1], np.int16))
    clone = copy.deepcopy(formatted)
    formatted.append_audio(np.array([2], np.int16))
    assert type(clone) is dict and clone["audio"].tolist() == [1]
    assert formatted["audio"].tolist() == [1, 2]


def test_setting_audio_replaces_it_and_later_appends_do_not_write_into_the_callers_array():
    formatted = FormattedItem()
    formatted.append_audio(np.array([9, 9], np.int16))
    mine = np.array([1, 2, 3], np.int16)
    formatted["audio"] = mine
    formatted.append_audio(np.array([4], np.int16))
    assert formatted["audio"].tolist() == [1, 2, 3, 4]
    assert mine.tolist() == [1, 2, 3]


def test_reading_after_every_append_reallocates_only_logarithmically_often():
    # Amortised O(1): the buffer grows geometrically, so reading after each of n deltas copies
    # O(n) samples in total, not O(n^2) as the seed's merge does.
    formatted = FormattedItem()
    buffers = set()
    for part in chunks(1, 2000):
        formatted.append_audio(part)
        audio = formatted["audio"]
        buffers.add(id(audio.base))
    assert audio.base is not None and len(audio) == formatted.audio_length
    assert len(buffers) < 40  # log_1.5(2000 * 250) is about 32


def test_truncation_keeps_a_prefix_in_a_fresh_buffer():
    formatted = FormattedItem()
    formatted.append_audio(np.arange(10, dtype=np.int16))
    before = formatted["audio"]
    formatted.truncate_audio(4)
    assert formatted["audio"].tolist() == [0, 1, 2, 3]
    formatted.truncate_audio(100)  # past the end: unchanged
    assert formatted["audio"].tolist() == [0, 1, 2, 3]
    assert before.tolist() == list(range(10))


def test_input_audio_ring_matches_a_whole_session_array_within_its_bound():
    rng = np.random.default_rng(2)
    ring = InputAudioRing(capacity=1000)
    session = []
    for part in chunks(3, 300):
        ring.append(part)
        session.append(part)
        whole = np.concatenate(session)
        assert ring.end == len(whole) and len(ring) == min(len(whole), 1000)
        for _ in range(3):
            start = int(rng.integers(0, len(whole) + 1))
            stop = int(rng.integers(start, len(whole) + 50))
            expected = whole[max(start, len(whole) - 1000) : stop]
            np.testing.assert_array_equal(ring.slice(start, stop), expected)


def test_input_audio_ring_accepts_a_chunk_larger_than_itself_and_pcm_bytes():
    ring = InputAudioRing(capacity=10)
    ring.append(np.arange(25, dtype=np.int16))
    assert ring.start == 15 and ring.slice(0, 100).tolist() == list(range(15, 25))
    ring.append(np.array([100, -100], "<i2").tobytes())
    assert ring.slice(20, 27).tolist() == [20, 21, 22, 23, 24, 100, -100]


def test_input_audio_ring_never_holds_more_than_its_capacity():
    ring = InputAudioRing(capacity=24000)
    for part in chunks(4, 2000):
        ring.append(part)
    assert ring._buf.nbytes == 2 * 24000


def test_input_audio_ring_rejects_a_non_positive_capacity():
    with pytest.raises(ValueError, match="positive number of samples"):
        InputAudioRing(0)


def test_formatted_item_takes_an_empty_chunk_after_audio_it_was_handed():
    # Found by the reducer fuzzer: audio set from a read-only array (a VAD turn's slice), then
    # an empty chunk, made the next read write zero samples into the read-only array and raise.
    handed = np.arange(10, dtype=np.int16)
    handed.flags.writeable = False
    formatted = FormattedItem(audio=handed)
    formatted.append_audio(np.zeros(0, dtype=np.int16))
    assert list(formatted["audio"]) == list(range(10))
    formatted.append_audio(np.array([7], dtype=np.int16))
    formatted.truncate_audio(11)
    assert list(formatted["audio"]) == [*range(10), 7]
