"""Text-to-speech stages of the local pipeline: Piper, espeak-ng, or any endpoint.

A stage is called like the server's ``synthesizer``: ``stage(text, voice) -> int16 at 24 kHz``.
The server speaks clause by clause, so each call is one short phrase (DESIGN §10).

* :class:`PiperTTS`: a Piper voice (``.onnx`` + ``.onnx.json``) run by ``piper-tts``. Piper is
  GPL-3.0, so it is an optional extra of its own: ``pip install 'realtime_widget[piper]'``.
* :class:`EspeakTTS`: the system's ``espeak-ng`` (robotic, but always there on Debian/Ubuntu).
* :class:`OpenAISpeechTTS`: any OpenAI-compatible ``POST /v1/audio/speech``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from realtime_widget.audio import resample
from realtime_widget.server._shared import StageError, endpoint_client, shared
from realtime_widget.server.speech import SAMPLE_RATE, espeak_available, synthesize

__all__ = ["EspeakTTS", "OpenAISpeechTTS", "PiperTTS"]


def _to_24k(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate != SAMPLE_RATE:
        samples = np.asarray(resample(samples, rate, SAMPLE_RATE))
    if samples.dtype != np.int16:
        samples = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    return samples


class PiperTTS:
    """A Piper voice.

    Args:
        voice_path: the voice's ``.onnx`` file (its ``.onnx.json`` beside it).
        length_scale: speaking slowness (1.0 = the voice's own pace).

    Raises:
        StageError: piper-tts is missing or the voice cannot be loaded.
    """

    def __init__(self, voice_path: str | os.PathLike, *, length_scale: float | None = None) -> None:
        self.path = Path(voice_path).expanduser()
        self.length_scale = length_scale
        self._lock = shared(("piper-lock", str(self.path)), threading.Lock)

    @property
    def name(self) -> str:
        """``Piper en_US-joe-medium``."""
        return f"Piper {self.path.stem}"

    @property
    def voice(self) -> Any:
        """The loaded ``piper.PiperVoice`` (once per process)."""
        return shared(("piper", str(self.path)), self._load)

    def load(self) -> PiperTTS:
        """Load now rather than on the first answer; returns ``self``."""
        self.voice  # noqa: B018 - loads and caches
        return self

    def _load(self) -> Any:
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise StageError(
                "piper-tts is not installed: pip install 'realtime_widget[piper]' (GPL-3.0), or "
                "use espeak-ng (apt install espeak-ng)."
            ) from exc
        if not self.path.is_file():
            raise StageError(f"the Piper voice {self.path} does not exist.")
        try:
            return PiperVoice.load(self.path)
        except Exception as exc:
            raise StageError(f"the Piper voice {self.path} could not be loaded: {exc}") from exc

    def __call__(self, text: str, voice: str | None = None) -> np.ndarray:
        """Speak ``text`` (the session's ``voice`` name is ignored: a Piper file is one voice)."""
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        piper_voice = self.voice
        config = None
        if self.length_scale is not None:
            from piper import SynthesisConfig

            config = SynthesisConfig(length_scale=self.length_scale)
        pieces, rate = [], SAMPLE_RATE
        with self._lock:  # one onnxruntime session; Piper takes ~3 % of real time
            for chunk in piper_voice.synthesize(text, syn_config=config):
                rate = chunk.sample_rate
                pieces.append(np.asarray(chunk.audio_int16_array, dtype=np.int16))
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        return _to_24k(np.concatenate(pieces), rate)


class EspeakTTS:
    """The system's espeak-ng (the fallback voice).

    Raises:
        StageError: no ``espeak-ng`` binary on ``PATH``.
    """

    name = "espeak-ng"

    def __init__(self) -> None:
        if not espeak_available():
            raise StageError("espeak-ng is not installed: apt install espeak-ng (or use Piper).")

    def __call__(self, text: str, voice: str | None = None) -> np.ndarray:
        """Speak ``text`` with espeak-ng."""
        return synthesize(text, voice)


class OpenAISpeechTTS:
    """Any OpenAI-compatible ``/v1/audio/speech`` endpoint (raw 24 kHz PCM asked for).

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``.
        model: the endpoint's model (``gpt-4o-mini-tts``, ``speaches-ai/Kokoro-82M-v1.0-ONNX``).
        voice: a voice the endpoint knows, used when the session's voice is not given.
        api_key: Bearer token, when needed.
        timeout: seconds before the clause fails.
    """

    def __init__(
        self,
        base_url: str,
        model: str = "gpt-4o-mini-tts",
        *,
        voice: str = "alloy",
        api_key: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_name, self.default_voice = model, voice
        self._client = endpoint_client(self.base_url, api_key, timeout)

    @property
    def name(self) -> str:
        """The model and where it runs."""
        return f"{self.model_name} at {self.base_url}"

    def __call__(self, text: str, voice: str | None = None) -> np.ndarray:
        """Speak ``text``; the endpoint answers raw PCM16 at 24 kHz."""
        import openai

        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        try:
            response = self._client.audio.speech.create(
                model=self.model_name,
                voice=voice or self.default_voice,
                input=text,
                response_format="pcm",
            )
        except openai.APIError as exc:
            raise StageError(f"the speech endpoint {self.base_url} failed: {exc}") from exc
        data = response.read()
        return np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.int16)
