"""Audio benchmarks: base64+PCM decode and streaming resampling, as multiples of real time.

Figures are medians of repeated runs. Where a peer exists in the same process (bare stdlib base64
for decoding, SciPy's ``resample_poly`` for one-shot resampling) its ratio is reported too,
because this machine is noisy and shared.
"""

from __future__ import annotations

import base64
import importlib.util
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _rows import Row, median_time

from realtime_widget.audio import (
    EnergyVAD,
    StreamingResampler,
    decode_base64,
    encode_base64,
    pcm16_to_float,
    resample,
    ulaw_encode,
)

WIRE_RATE = 24000
WIRE_BYTES_PER_S = WIRE_RATE * 2


def _speechlike(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    x += 0.05 * rng.standard_normal(t.size)
    return np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)


def _decode_rows(quick: bool) -> list[Row]:
    # Deltas of 100 ms, as a model streams them, decoded to int16 and then to float for playback.
    seconds = 5 if quick else 60
    pcm = _speechlike(seconds, WIRE_RATE)
    step = WIRE_RATE // 10
    deltas = [encode_base64(pcm[i : i + step]) for i in range(0, pcm.size, step)]
    b64_mb = sum(map(len, deltas)) / 1e6

    def ours():
        for d in deltas:
            pcm16_to_float(decode_base64(d))

    def bare():  # the least any decoder must do: stdlib base64 and a numpy view
        for d in deltas:
            np.frombuffer(base64.b64decode(d), "<i2").astype(np.float32)

    repeat = 3 if quick else 7
    t_ours, t_bare = median_time(ours, repeat), median_time(bare, repeat)
    realtime = seconds / t_ours
    note = f"{len(deltas)} deltas of 100 ms, {b64_mb:.1f} MB base64, median of {repeat}"
    return [
        Row("base64+PCM decode (100 ms deltas)", realtime, "x", ">= 1000x", realtime >= 1000, note),
        Row("base64+PCM decode throughput", b64_mb / t_ours, "MB/s", "info", True, "of base64"),
        Row(
            "base64+PCM decode vs bare stdlib",
            t_bare / t_ours,
            "x",
            ">= 0.5x",
            t_bare / t_ours >= 0.5,
            "speed ratio ours/bare (b64decode + frombuffer): cost of validation",
        ),
    ]


def _stream_row(src: int, quick: bool) -> Row:
    seconds = 2 if quick else 10
    x = _speechlike(seconds, src, seed=src)
    chunk = src // 50  # 20 ms, as the browser worklet sends

    def run():
        r = StreamingResampler(src, WIRE_RATE)
        for i in range(0, x.size, chunk):
            r.process(x[i : i + chunk])
        r.flush()

    run()  # builds and caches the filter table
    repeat = 3 if quick else 7
    realtime = seconds / median_time(run, repeat)
    return Row(
        f"resample {src / 1000:g}k->24k streaming 20 ms chunks",
        realtime,
        "x",
        ">= 100x",
        realtime >= 100,
        f"int16 in/out, {seconds} s signal, median of {repeat}",
    )


def _scipy_rows(quick: bool) -> list[Row]:
    if importlib.util.find_spec("scipy") is None:
        return []
    from scipy.signal import firwin, resample_poly

    from realtime_widget.audio.resampler import KAISER_BETA, ROLLOFF, _design

    src, seconds = 44100, (2 if quick else 10)
    x = _speechlike(seconds, src).astype(np.float32) / 32768
    up, down, half, _, _ = _design(src, WIRE_RATE)
    # The same work per output as ours: 2*half taps per phase, same cutoff and Kaiser window.
    same_filter = firwin(2 * half * up + 1, ROLLOFF / max(up, down), window=("kaiser", KAISER_BETA))
    repeat = 3 if quick else 7
    resample(x, src, WIRE_RATE)  # warm the filter cache
    t_ours = median_time(lambda: resample(x, src, WIRE_RATE), repeat)
    t_default = median_time(lambda: resample_poly(x, up, down), repeat)
    t_same = median_time(lambda: resample_poly(x, up, down, window=same_filter), repeat)
    taps_default = 2 * 10 * max(up, down) // up  # resample_poly's default half_len is 10*max
    return [
        Row(
            "resample 44.1k->24k one-shot vs scipy, same filter",
            t_same / t_ours,
            "x",
            ">= 0.5x",
            t_same / t_ours >= 0.5,
            f"speed ratio ours/resample_poly with our {2 * half}-tap-per-output Kaiser filter; "
            f"ours {seconds / t_ours:.0f}x real time",
        ),
        Row(
            "resample 44.1k->24k one-shot vs scipy default",
            t_default / t_ours,
            "x",
            "info",
            True,
            f"speed ratio ours/resample_poly defaults (~{taps_default} taps per output, beta 5)",
        ),
    ]


def _vad_row(quick: bool) -> Row:
    seconds = 5 if quick else 30
    x = _speechlike(seconds, WIRE_RATE)
    chunk = WIRE_RATE // 50

    def run():
        vad = EnergyVAD()
        for i in range(0, x.size, chunk):
            vad.process(x[i : i + chunk])

    repeat = 3 if quick else 7
    realtime = seconds / median_time(run, repeat)
    return Row(
        "EnergyVAD 24k in 20 ms chunks",
        realtime,
        "x",
        ">= 100x",
        realtime >= 100,
        f"{seconds} s signal, median of {repeat}",
    )


def _g711_row(quick: bool) -> Row:
    seconds = 10 if quick else 60
    x = _speechlike(seconds, 8000)
    repeat = 3 if quick else 7
    realtime = seconds / median_time(lambda: ulaw_encode(x), repeat)
    return Row("G.711 mu-law encode 8 kHz", realtime, "x", ">= 1000x", realtime >= 1000, "")


def run(quick: bool = False) -> list[Row]:
    """Measure the audio utilities.

    Args:
        quick: smaller inputs and fewer repetitions (a smoke run).

    Returns:
        Bench rows: decode and resampling as multiples of real time, ratios against peers.
    """
    rows = _decode_rows(quick)
    rows += [_stream_row(48000, quick), _stream_row(44100, quick)]
    rows += _scipy_rows(quick)
    rows += [_vad_row(quick), _g711_row(quick)]
    return rows


if __name__ == "__main__":
    print(Row.table(run(quick="--quick" in sys.argv)))
