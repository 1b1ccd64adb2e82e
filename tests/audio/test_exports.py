"""The audio names of docs/architecture.md are a contract other layers import."""

import realtime_widget.audio as audio

CONTRACT = {
    "SAMPLE_RATE",
    "pcm16_to_float",
    "float_to_pcm16",
    "encode_base64",
    "decode_base64",
    "StreamingResampler",
    "resample",
    "read_wav",
    "write_wav",
    "wav_bytes",
    "ulaw_encode",
    "ulaw_decode",
    "alaw_encode",
    "alaw_decode",
    "rms",
    "dbfs",
    "EnergyVAD",
    "VadEvent",
}


def test_audio_package_exports_contract_names():
    assert CONTRACT <= set(audio.__all__)


def test_every_exported_audio_name_resolves():
    for name in audio.__all__:
        assert getattr(audio, name) is not None, name


def test_audio_wire_rate_is_24khz():
    assert audio.SAMPLE_RATE == 24000


def test_audio_package_imports_no_io_modules():
    import subprocess
    import sys

    code = (
        "import sys, realtime_widget.audio; "
        "bad = {'asyncio', 'socket', 'threading', 'websockets', 'traitlets'} & set(sys.modules); "
        "print(sorted(bad))"
    )
    # A fresh interpreter: the test process itself has imported asyncio long ago.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
