"""Who translates a phrase in a translation session, and who speaks it (issue 14, point 3).

- :func:`marked_translation`: the echo brain's deterministic stand-in, the text marked with the
  target language (``"[fr] hello"``), so tests of the protocol run fast and know what to expect.
- :class:`LanguageModelTranslator`: the local pipeline's language model (DESIGN §10) prompted to
  translate, for real offline interpretation.
- :func:`speech_in`: the translation spoken in the target language (espeak-ng's voice for that
  language when installed, else the given synthesizer).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from realtime_widget.server._translation import LANGUAGES
from realtime_widget.server.speech import espeak_available, espeak_speech

__all__ = ["LanguageModelTranslator", "Translator", "marked_translation", "speech_in"]


class Translator(Protocol):
    """``(text, language code) -> text in that language``."""

    def __call__(self, text: str, language: str) -> str: ...


def marked_translation(text: str, language: str) -> str:
    """The deterministic stand-in: ``text`` marked with the target language (``"[fr] text"``)."""
    return f"[{language}] {text}"


def language_name(language: str) -> str:
    """``"fr"`` -> ``"French"`` (the code itself when unknown)."""
    return LANGUAGES.get(language, (language, ""))[0]


class LanguageModelTranslator:
    """A chat language model prompted to translate (the local pipeline's ``llm``).

    Args:
        llm: a ``LanguageModel`` (``server/llm.py``): llama.cpp in process or an
            OpenAI-compatible chat endpoint.
        temperature: sampling temperature (low: a translation, not a reply).
        max_tokens: longest translation of one phrase.
    """

    def __init__(self, llm: Any, temperature: float = 0.1, max_tokens: int = 200) -> None:
        self.llm, self.temperature, self.max_tokens = llm, temperature, max_tokens

    @property
    def name(self) -> str:
        """The model's name."""
        return str(getattr(self.llm, "name", type(self.llm).__name__))

    def __call__(self, text: str, language: str) -> str:
        """Translate ``text`` into ``language`` (blocking: run it on a worker thread)."""
        target = language_name(language)
        messages = [
            {
                "role": "system",
                "content": f"You are an interpreter. Translate everything the user says into "
                f"{target}. Reply with the {target} translation only: no explanations, no notes, "
                "no quotation marks.",
            },
            {"role": "user", "content": text},
        ]
        pieces = self.llm.stream(
            messages,
            [],
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            stop=threading.Event(),
        )
        return "".join(piece for piece in pieces if isinstance(piece, str)).strip().strip('"')

    def __repr__(self) -> str:
        return f"<LanguageModelTranslator {self.name}>"


def speech_in(
    text: str,
    language: str,
    synthesizer: Callable[[str], np.ndarray] | None,
    *,
    native: bool = True,
) -> np.ndarray:
    """``text`` spoken in ``language`` as int16 at 24 kHz.

    Args:
        text: what to say.
        language: the target language code.
        synthesizer: a voice for English (and for every language when espeak-ng is missing, or
            when ``native`` is false); ``None`` means espeak-ng or the built-in voice.
        native: speak other languages with espeak-ng's voice for them (a Piper voice or the
            built-in one reads every text as English).
    """
    voice = LANGUAGES.get(language, ("", "en-us"))[1]
    if synthesizer is not None and (not native or language == "en" or not espeak_available()):
        return np.asarray(synthesizer(text), dtype=np.int16)
    if espeak_available():
        try:
            return np.asarray(espeak_speech(text, voice=voice), dtype=np.int16)
        except Exception:  # a missing voice or a broken install: fall back to a voice that works
            pass
    from realtime_widget.server.speech import synthesize

    return synthesize(text)
