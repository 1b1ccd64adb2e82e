"""Speech-to-text stages of the local pipeline: faster-whisper in process, or any endpoint.

A stage is called like the server's ``transcriber``: ``stage(int16 samples, rate) -> text``.
Stages are slow (tens to hundreds of milliseconds), so the server runs them off its event loop
and early, when the speaker pauses (DESIGN §10).

* :class:`FasterWhisperSTT`: Whisper by faster-whisper (CTranslate2), from a model name (the
  library downloads it into its cache on first use, with a progress bar) or a local folder.
* :class:`OpenAITranscriptionSTT`: any OpenAI-compatible ``POST /v1/audio/transcriptions``
  (speaches, vLLM, a whisper.cpp server, OpenAI itself).
"""

from __future__ import annotations

import io
import os
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from realtime_widget.audio import resample, wav_bytes
from realtime_widget.server._shared import StageError, endpoint_client, shared

__all__ = ["FasterWhisperSTT", "OpenAITranscriptionSTT"]

_WHISPER_RATE = 16000
_MIN_FRAMES = 1000  # 10 s of features: shorter windows make Whisper loop on short phrases
_FRAMES_PER_S = 100


class FasterWhisperSTT:
    """Whisper run in process by faster-whisper.

    Short turns are encoded over a window fitted to the audio (at least 10 s) instead of
    Whisper's fixed 30 s: the encoder then costs tens of milliseconds instead of hundreds on a
    laptop CPU, with the same words on the phrases measured here. An answer that repeats itself
    (Whisper's failure on short windows) is redone over the full 30 s window.

    Args:
        model: a faster-whisper model name (``"base"``, ``"small.en"``, ...) or a folder holding
            ``model.bin``, ``config.json`` and the tokenizer.
        language: the spoken language (``"en"``), or ``None`` to detect it per turn.
        compute_type: CTranslate2 precision (``"int8"`` is fastest on CPUs).
        cpu_threads: threads for the encoder and decoder (0 = the library's default).

    Raises:
        StageError: faster-whisper is not installed, or the model cannot be loaded.
    """

    def __init__(
        self,
        model: str | os.PathLike = "base",
        *,
        language: str | None = "en",
        compute_type: str = "int8",
        cpu_threads: int = 0,
    ) -> None:
        self.model_ref = str(model)
        self.language = language
        self.compute_type, self.cpu_threads = compute_type, cpu_threads
        self._lock = shared(("whisper-lock", self.model_ref), threading.Lock)

    @property
    def name(self) -> str:
        """``whisper base`` (or the folder's name)."""
        ref = Path(self.model_ref)
        label = ref.name if ref.exists() else self.model_ref
        return label if "whisper" in label.lower() else f"whisper {label}"

    @property
    def model(self) -> Any:
        """The ``faster_whisper.WhisperModel`` (loaded once per process)."""
        key = ("whisper", self.model_ref, self.compute_type, self.cpu_threads)
        return shared(key, self._load)

    def load(self) -> FasterWhisperSTT:
        """Load now rather than on the first turn; returns ``self``."""
        self.model  # noqa: B018 - loads and caches
        return self

    def _load(self) -> Any:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise StageError(
                "faster-whisper is not installed: pip install 'realtime_widget[local]' (or "
                "point speech-to-text at a server with --stt http://HOST:PORT/v1)."
            ) from exc
        try:
            return WhisperModel(
                self.model_ref,
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
            )
        except Exception as exc:  # missing files, no network for a name, a corrupt model.bin
            raise StageError(
                f"the Whisper model {self.model_ref!r} could not be loaded ({exc}); give a "
                "folder with model.bin, config.json and tokenizer.json, or a model name with "
                "network access for its first download."
            ) from exc

    def __call__(
        self,
        samples: np.ndarray,
        rate: int,
        *,
        language: str | None = None,
        prompt: str | None = None,
    ) -> str:
        """Transcribe one turn (int16 at ``rate``).

        Args:
            samples: the turn's audio.
            rate: its sample rate.
            language: the session's transcription language (default: the stage's).
            prompt: the session's transcription prompt: words and spellings to expect.
        """
        language = language or self.language
        audio = np.asarray(samples, dtype=np.float32) / 32768.0
        if rate != _WHISPER_RATE:
            audio = np.asarray(resample(audio, rate, _WHISPER_RATE), dtype=np.float32)
        if audio.size < _WHISPER_RATE // 10:
            return ""
        model = self.model
        with self._lock:
            text = self._short_window(model, audio, language, prompt)
            if text is None:
                segments, _ = model.transcribe(
                    audio,
                    language=language,
                    initial_prompt=prompt,
                    beam_size=1,
                    without_timestamps=True,
                    condition_on_previous_text=False,
                )
                text = "".join(segment.text for segment in segments)
        return text.strip()

    def _short_window(
        self, model: Any, audio: np.ndarray, language: str | None, prompt: str | None
    ) -> str | None:
        import ctranslate2

        seconds = audio.size / _WHISPER_RATE
        if seconds > 20:
            return None
        features = model.feature_extractor(audio)
        frames = min(3000, max(_MIN_FRAMES, features.shape[-1] + 600))
        padded = np.zeros((features.shape[0], frames), dtype=np.float32)
        padded[:, : min(frames, features.shape[-1])] = features[:, :frames]
        encoded = model.model.encode(ctranslate2.StorageView.from_array(padded[None]))
        tokenizer = model.hf_tokenizer
        start = [tokenizer.token_to_id("<|startoftranscript|>")]
        if language:
            start.append(tokenizer.token_to_id(f"<|{language}|>"))
        start += [
            tokenizer.token_to_id("<|transcribe|>"),
            tokenizer.token_to_id("<|notimestamps|>"),
        ]
        if None in start:
            return None  # e.g. a language Whisper does not know: the library's path says so
        previous: list[int] = []
        if prompt:  # Whisper's "previous text": spellings and names to expect
            previous = [tokenizer.token_to_id("<|startofprev|>")]
            previous += tokenizer.encode(" " + prompt.strip(), add_special_tokens=False).ids[-200:]
        result = model.model.generate(
            encoded,
            [previous + start],
            beam_size=1,
            max_length=len(previous) + int(12 + seconds * 8),
            suppress_blank=True,
        )
        eot = tokenizer.token_to_id("<|endoftext|>")
        ids = [t for t in result[0].sequences_ids[0] if t < eot]
        text = tokenizer.decode(ids)
        return None if _repeats(text) else text


def _repeats(text: str) -> bool:
    """Whether a phrase of 1-6 words occurs three times in a row (Whisper's loop)."""
    return re.search(r"(\b.{2,40}?\b)(?:\W+\1){2,}", text.lower()) is not None


class OpenAITranscriptionSTT:
    """Any OpenAI-compatible ``/v1/audio/transcriptions`` endpoint.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``.
        model: the endpoint's model name (``whisper-1``, ``Systran/faster-whisper-base``, ...).
        api_key: Bearer token, when the endpoint needs one.
        language: the spoken language, or ``None``.
        timeout: seconds before the transcription fails.
    """

    def __init__(
        self,
        base_url: str,
        model: str = "whisper-1",
        *,
        api_key: str | None = None,
        language: str | None = "en",
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_name, self.language = model, language
        self._client = endpoint_client(self.base_url, api_key, timeout)

    @property
    def name(self) -> str:
        """The model and where it runs."""
        return f"{self.model_name} at {self.base_url}"

    def __call__(
        self,
        samples: np.ndarray,
        rate: int,
        *,
        language: str | None = None,
        prompt: str | None = None,
    ) -> str:
        """Send the turn as a WAV file (with the session's language and prompt); return the text."""
        import openai

        wav = io.BytesIO(wav_bytes(np.asarray(samples, dtype=np.int16), rate))
        extra: dict = {}
        if language or self.language:
            extra["language"] = language or self.language
        if prompt:
            extra["prompt"] = prompt
        try:
            result = self._client.audio.transcriptions.create(
                model=self.model_name, file=("turn.wav", wav, "audio/wav"), **extra
            )
        except openai.APIError as exc:
            raise StageError(f"the transcription endpoint {self.base_url} failed: {exc}") from exc
        return str(getattr(result, "text", result)).strip()
