"""Model defaults and announced shutdowns, checked against the installed openai SDK (issue 12).

The SDK's ``model`` Literals and their "Deprecated values" notes are what OpenAI serves now; when
a new SDK deprecates our default or renames a model, these tests fail and name it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import typing
import warnings

import pytest

from realtime_widget.protocol import (
    DEFAULT_MODEL,
    DEFAULT_TRANSCRIPTION_MODEL,
    DEPRECATED_MODELS,
    DeprecatedModelWarning,
    shutdown_date,
    warn_if_deprecated,
)
from realtime_widget.protocol import models as models_module
from tests.helpers import require

# (module under openai.types.realtime, class, our default for that field)
SDK_MODEL_FIELDS = [
    ("realtime_session_create_request", "RealtimeSessionCreateRequest", DEFAULT_MODEL),
    ("audio_transcription", "AudioTranscription", DEFAULT_TRANSCRIPTION_MODEL),
]
_DEPRECATED_ITEM = re.compile(
    r"-\s+((?:\"[^\"]+\",?\s*)+):\s*Announced shutdown date:\s*(\d{4}-\d{2}-\d{2})"
)


def _sdk_class(module: str, name: str) -> tuple[type, typing.Any]:
    require(importlib.util.find_spec("openai") is not None, "the openai package (test extra)")
    mod = importlib.import_module(f"openai.types.realtime.{module}")
    return getattr(mod, name), mod


def sdk_model_literals(module: str, name: str) -> set[str]:
    """The model names the SDK lists in the ``Literal`` of ``<name>.model``."""
    cls, _ = _sdk_class(module, name)
    found: set[str] = set()

    def walk(annotation: typing.Any) -> None:
        if typing.get_origin(annotation) is typing.Literal:
            found.update(typing.get_args(annotation))
        for arg in typing.get_args(annotation):
            walk(arg)

    walk(cls.model_fields["model"].annotation)
    return found


def sdk_deprecated_models(module: str, name: str) -> dict[str, str]:
    """Model -> shutdown date, from the "Deprecated values" docstring under ``<name>.model``."""
    _, mod = _sdk_class(module, name)
    tree = ast.parse(inspect.getsource(mod))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    body = cls.body
    for index, node in enumerate(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "model"
        ):
            doc = body[index + 1].value.value  # the attribute docstring that follows
            break
    else:  # pragma: no cover - the SDK moved the field: say so
        raise AssertionError(f"{name}.model not found in {mod.__name__}")
    assert "Deprecated values" in doc, f"{name}.model has no 'Deprecated values' note any more"
    deprecated = {}
    for names, date in _DEPRECATED_ITEM.findall(doc.split("Deprecated values", 1)[1]):
        for model in re.findall(r"\"([^\"]+)\"", names):
            deprecated[model] = date
    assert deprecated, f"could not read the deprecated models of {name}.model"
    return deprecated


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget which models this process already warned about (the warning is once per process)."""
    monkeypatch.setattr(models_module, "_warned", set())


@pytest.mark.parametrize(("module", "name", "default"), SDK_MODEL_FIELDS)
def test_default_model_is_a_current_model_of_the_installed_sdk(module, name, default):
    literals = sdk_model_literals(module, name)
    assert default in literals, f"{default!r} is not a model the SDK knows: {sorted(literals)}"
    deprecated = sdk_deprecated_models(module, name)
    assert default not in deprecated, (
        f"our default {default!r} is deprecated by the SDK (shutdown {deprecated.get(default)}); "
        f"pick a current one of {sorted(literals - deprecated.keys())}"
    )


def test_deprecated_model_table_matches_the_installed_sdk():
    sdk: dict[str, str] = {}
    for module, name, _ in SDK_MODEL_FIELDS:
        sdk.update(sdk_deprecated_models(module, name))
    missing = {m: d for m, d in sdk.items() if DEPRECATED_MODELS.get(m) != d}
    stale = sorted(DEPRECATED_MODELS.keys() - sdk.keys())
    assert not missing and not stale, (
        f"DEPRECATED_MODELS is out of date: add/fix {missing}, remove {stale}"
    )


def test_every_deprecated_model_is_one_the_sdk_still_lists():
    literals = set().union(*(sdk_model_literals(m, n) for m, n, _ in SDK_MODEL_FIELDS))
    assert DEPRECATED_MODELS.keys() <= literals, sorted(DEPRECATED_MODELS.keys() - literals)


def test_package_defaults_are_the_current_models():
    from realtime_widget.api import DEFAULT_MODEL as API_DEFAULT
    from realtime_widget.client._config import SessionConfig
    from realtime_widget.server import LocalRealtimeServer
    from realtime_widget.server.state import SessionState

    assert API_DEFAULT == DEFAULT_MODEL
    for cls in (LocalRealtimeServer, SessionState):
        assert inspect.signature(cls).parameters["model"].default == DEFAULT_MODEL, cls
    transcription = SessionConfig().to_dict()["audio"]["input"]["transcription"]
    assert transcription == {"model": DEFAULT_TRANSCRIPTION_MODEL}


def test_deprecated_model_warns_once_per_process_with_its_shutdown_date(fresh_warnings):
    with pytest.warns(DeprecatedModelWarning, match="'gpt-realtime'.*2027-01-20") as record:
        assert warn_if_deprecated("gpt-realtime") is True
    assert DEFAULT_MODEL in str(record[0].message)
    assert record[0].filename == __file__  # points at the caller, not at the library
    with pytest.warns(DeprecatedModelWarning, match="'whisper-1'.*2027-02-26") as record:
        assert warn_if_deprecated("whisper-1") is True
    assert DEFAULT_TRANSCRIPTION_MODEL in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_deprecated("gpt-realtime") is False  # said once already
        assert warn_if_deprecated("whisper-1") is False


@pytest.mark.parametrize("model", [DEFAULT_MODEL, DEFAULT_TRANSCRIPTION_MODEL, "my-deployment", 3])
def test_current_or_unknown_models_do_not_warn(fresh_warnings, model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_deprecated(model) is False
    assert shutdown_date(model) is None
