"""Audio utilities (pure numpy): PCM16/float, base64, streaming resampler, WAV, G.711, levels, VAD.

Everything here takes and returns numpy arrays; nothing does I/O except ``read_wav``/``write_wav``
on the files they are given. See docs/architecture.md ("audio") for the contract.
"""

from realtime_widget.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from realtime_widget.audio.levels import DBFS_FLOOR, dbfs, rms
from realtime_widget.audio.pcm import (
    PCM16_LE,
    SAMPLE_RATE,
    as_pcm16,
    decode_base64,
    encode_base64,
    float_to_pcm16,
    pcm16_to_float,
)
from realtime_widget.audio.resampler import STREAMING_TOLERANCE, StreamingResampler, resample
from realtime_widget.audio.vad import EnergyVAD, VadEvent, threshold_to_dbfs
from realtime_widget.audio.wav import read_wav, wav_bytes, write_wav

__all__ = [
    "DBFS_FLOOR",
    "PCM16_LE",
    "SAMPLE_RATE",
    "STREAMING_TOLERANCE",
    "EnergyVAD",
    "StreamingResampler",
    "VadEvent",
    "alaw_decode",
    "alaw_encode",
    "as_pcm16",
    "dbfs",
    "decode_base64",
    "encode_base64",
    "float_to_pcm16",
    "pcm16_to_float",
    "read_wav",
    "resample",
    "rms",
    "threshold_to_dbfs",
    "ulaw_decode",
    "ulaw_encode",
    "wav_bytes",
    "write_wav",
]
