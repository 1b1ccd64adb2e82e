"""The event log (collapsed deltas, redacted audio) and Replay of an answer's audio."""

from __future__ import annotations

import re
import time

import pytest

from tests.helpers import UNIT
from tests.ui.audio_sniffer import AUDIO_SNIFFER_JS

pytestmark = pytest.mark.ui

RATE = 24000
WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}")


def _spoken_reply(nb):
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message("say something I can log")
    reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    reply_id = reply.get_attribute("data-item-id")
    samples = nb.kernel.wait_for(
        f"[i['audio_samples'] for i in w.items if i['id'] == {reply_id!r}"
        " and i['status'] == 'completed']"
    )[0]
    # Wait for the whole answer to be played (the kernel's count reaches what was sent).
    nb.kernel.wait_for(
        f"w.played_samples.get({reply_id + ':0'!r}, 0) >= {samples}",
        timeout=samples / RATE + 10 * UNIT,
    )
    return view, reply


def test_event_log_collapses_audio_deltas_and_redacts_their_payloads(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view, _ = _spoken_reply(nb)

    view.root.get_by_label("Event log", exact=True).click()
    entries = view.root.locator(".rtw-log li")
    entries.first.wait_for(timeout=10 * UNIT * 1000)
    deltas = entries.filter(has_text="response.output_audio.delta")
    deltas.first.wait_for(timeout=10 * UNIT * 1000)
    # Consecutive deltas of one item collapse into one entry with a count (the server interleaves
    # audio and transcript deltas, so there are several runs, each collapsed).
    summaries = " | ".join(deltas.all_inner_texts())
    counts = [int(n) for n in re.findall(r"audio\.delta\s*×\s*(\d+)", summaries)]
    assert counts and max(counts) >= 2, summaries
    # Expanding an entry shows its JSON with the audio replaced by a byte count.
    deltas.first.locator("summary").click()
    payload = deltas.first.locator("pre").inner_text()
    assert "bytes of audio" in payload, payload[:300]
    nb.screenshot("event-log-open")
    log_text = view.root.locator(".rtw-log").inner_text()
    assert not BASE64_RUN.search(log_text), "audio payload in the event log"
    assert entries.filter(has_text="session.update").count() >= 1  # client events are logged too


def test_replay_plays_an_answer_again_outside_the_live_player_count(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence", init_scripts=(AUDIO_SNIFFER_JS,))
    view, reply = _spoken_reply(nb)
    time.sleep(0.5 * UNIT)  # the player's tail of silence
    played = view.data_int("played-samples")

    assert nb.page.evaluate("() => globalThis.__rtwSniffer.arm()") >= 1
    reply.get_by_role("button", name="Replay", exact=True).click()
    nb.page.wait_for_function(
        "() => globalThis.__rtwSniffer.result !== null", timeout=10 * UNIT * 1000
    )
    nb.screenshot("replaying")
    time.sleep(0.5 * UNIT)
    assert view.data_int("played-samples") == played, "a replay is not live playback"
    assert nb.kernel.value("w.last_truncate") is None
