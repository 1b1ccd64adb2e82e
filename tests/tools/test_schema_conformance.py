"""Generated definitions are valid JSON Schema, fit OpenAI's session.update, and agree with the
pydantic validator that checks the arguments (a differential test: jsonschema vs pydantic)."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Annotated, Literal, Optional, TypedDict

import jsonschema
import pytest
from pydantic import BaseModel, Field

from realtime_widget.testing.schema import schema_errors
from realtime_widget.tools import ToolRegistry


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


class Window(TypedDict):
    start: int
    end: int


@dataclasses.dataclass
class Place:
    city: str
    country: str = "NO"


class Order(BaseModel):
    item: str
    qty: int = Field(ge=1)


def forecast(
    place: Place,
    unit: Unit = Unit.C,
    days: Annotated[int, Field(ge=1, le=7)] = 3,
    window: Optional[Window] = None,  # noqa: UP045
    mode: Literal["brief", "full"] = "brief",
    tags: list[str] = [],  # noqa: B006
    orders: list[Order] | None = None,
    pair: tuple[int, str] | None = None,
    weights: dict[str, float] | None = None,
) -> str:
    """Forecast.

    Args:
        place: Where.
    """
    return "ok"


VALID = [
    {"place": {"city": "Oslo"}},
    {"place": {"city": "Rome", "country": "IT"}, "unit": "fahrenheit", "days": 7},
    {"place": {"city": "x"}, "window": {"start": 1, "end": 2}, "mode": "full", "tags": ["a"]},
    {"place": {"city": "x"}, "orders": [{"item": "tea", "qty": 2}], "pair": [1, "a"]},
    {"place": {"city": "x"}, "weights": {"a": 0.5}, "window": None},
]
INVALID = [
    {},
    {"place": {"country": "NO"}},
    {"place": {"city": "x"}, "unit": "kelvin"},
    {"place": {"city": "x"}, "days": 0},
    {"place": {"city": "x"}, "days": 8},
    {"place": {"city": "x"}, "window": {"start": 1}},
    {"place": {"city": "x"}, "mode": "verbose"},
    {"place": {"city": "x"}, "orders": [{"item": "tea", "qty": 0}]},
    {"place": {"city": "x"}, "tags": "a"},
    {"place": {"city": "x"}, "weights": {"a": "heavy"}},
]


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.add(forecast)
    return registry


def test_parameters_are_valid_json_schema(registry):
    jsonschema.Draft202012Validator.check_schema(registry.definitions()[0]["parameters"])


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_definitions_fit_openai_session_update(registry, dialect):
    session = {"tools": registry.definitions()}
    if dialect == "ga":
        session["type"] = "realtime"
    event = {"type": "session.update", "session": session}
    assert schema_errors(event, dialect, strict=True) == []


@pytest.mark.parametrize("arguments", VALID, ids=json.dumps)
async def test_arguments_the_schema_accepts_are_accepted_by_the_tool(registry, arguments):
    jsonschema.validate(arguments, registry.definitions()[0]["parameters"])
    record = await registry.invoke("c", "forecast", json.dumps(arguments))
    assert record.ok, record.error


@pytest.mark.parametrize("arguments", INVALID, ids=json.dumps)
async def test_arguments_the_schema_rejects_are_rejected_by_the_tool(registry, arguments):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(arguments, registry.definitions()[0]["parameters"])
    record = await registry.invoke("c", "forecast", json.dumps(arguments))
    assert record.error["type"] == "invalid_arguments"
