"""realtime_widget.testing.spec_from_sdk: the GA schema is what the installed SDK says."""

from __future__ import annotations

import importlib.util
import json

import pytest

from realtime_widget.testing import spec_from_sdk
from realtime_widget.testing.spec_from_sdk import SPEC_PATH, event_component_name, generate
from tests.helpers import require


@pytest.fixture(scope="module")
def fresh():
    require(importlib.util.find_spec("openai") is not None, "the openai package (test extra)")
    return generate()


def _fields(document: dict) -> set[str]:
    """``Component`` and ``Component.property`` names of a schema document."""
    out = set()
    for name, schema in document["components"]["schemas"].items():
        out.add(name)
        out |= {f"{name}.{prop}" for prop in schema.get("properties", {})}
    return out


def test_committed_ga_schema_is_what_the_installed_sdk_gives(fresh):
    committed = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    added = sorted(_fields(fresh) - _fields(committed))
    removed = sorted(_fields(committed) - _fields(fresh))
    assert not added and not removed, (
        f"the openai SDK ({fresh['x-source']['package']}) changed the Realtime types: "
        f"new {added}, gone {removed}. Run python -m realtime_widget.testing.spec_from_sdk, then "
        "teach the catalogue and the embedded server the new events and fields."
    )
    assert spec_from_sdk.render(fresh) == SPEC_PATH.read_text(encoding="utf-8"), (
        "same fields, other details: run python -m realtime_widget.testing.spec_from_sdk"
    )


def test_event_components_are_named_after_their_type():
    assert event_component_name("server", "response.output_audio.delta") == (
        "RealtimeServerEventResponseOutputAudioDelta"
    )
    assert event_component_name("client", "session.update") == "RealtimeClientEventSessionUpdate"


def test_generated_schema_reads_like_openapi_not_pydantic(fresh):
    text = json.dumps(fresh)
    assert '"title"' not in text and '"const"' not in text
    assert '"additionalProperties": true' not in text
    delta = fresh["components"]["schemas"]["RealtimeServerEventResponseOutputAudioDelta"]
    assert delta["properties"]["type"]["enum"] == ["response.output_audio.delta"]
    assert delta["x-oaiMeta"]["name"] == "response.output_audio.delta"


def test_openais_examples_are_carried_over_by_event_type(fresh, tmp_path):
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            {
                "x-source": {"repository": "openai/openai-openapi", "license": "MIT"},
                "components": {
                    "schemas": {
                        "AnyOldName": {
                            "properties": {"type": {"enum": ["response.done"]}},
                            "x-oaiMeta": {"name": "response.done", "example": "{}"},
                        }
                    }
                },
            }
        )
    )
    document = generate(old)
    done = document["components"]["schemas"]["RealtimeServerEventResponseDone"]
    assert done["x-oaiMeta"]["example"] == "{}"
    assert document["x-source"]["examples"] == {
        "repository": "openai/openai-openapi",
        "license": "MIT",
    }
    assert (
        "example"
        not in generate(None)["components"]["schemas"]["RealtimeServerEventResponseDone"][
            "x-oaiMeta"
        ]
    )


def test_main_check_reports_an_out_of_date_file(fresh, tmp_path, monkeypatch, capsys):
    stale = tmp_path / "ga.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(spec_from_sdk, "SPEC_PATH", stale)
    assert spec_from_sdk.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert spec_from_sdk.main([]) == 0
    assert spec_from_sdk.main(["--check"]) == 0
