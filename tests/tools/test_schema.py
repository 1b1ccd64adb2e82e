"""Golden tests: function signatures -> Realtime API tool definitions (literal expected dicts)."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Literal, Optional, TypedDict, Union

import pytest
from pydantic import BaseModel, Field

from realtime_widget.tools import ToolDefinitionError, function_schema, tool


def params(fn) -> dict:
    return function_schema(fn)["parameters"]


# --------------------------------------------------------------------------- scalars, docstrings
def test_schema_of_scalars_with_google_docstring():
    def get_weather(city: str, days: int, lat: float, metric: bool = True) -> dict:
        """Current weather for a city.

        Args:
            city: The city name.
            days (int): Days ahead.
        """

    assert function_schema(get_weather) == {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city name."},
                "days": {"type": "integer", "description": "Days ahead."},
                "lat": {"type": "number"},
                "metric": {"type": "boolean", "default": True},
            },
            "required": ["city", "days", "lat"],
        },
    }


def test_schema_with_numpy_docstring_keeps_extended_description():
    def forecast(city: str, days: int = 3):
        """Forecast for a city.

        Uses the cache.

        Parameters
        ----------
        city : str
            Name of the city.
        days : int, optional
            Number of days,
            at most 7.
        """

    assert function_schema(forecast) == {
        "type": "function",
        "name": "forecast",
        "description": "Forecast for a city.\n\nUses the cache.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "Name of the city."},
                "days": {
                    "type": "integer",
                    "default": 3,
                    "description": "Number of days, at most 7.",
                },
            },
            "required": ["city"],
        },
    }


def test_schema_with_rest_docstring_and_literal_enum():
    def temperature(city: str, unit: Literal["C", "F"] = "C"):
        """Current temperature.

        :param city: The city.
        :param str unit: Temperature unit.
        :returns: a number
        """

    assert function_schema(temperature) == {
        "type": "function",
        "name": "temperature",
        "description": "Current temperature.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city."},
                "unit": {
                    "type": "string",
                    "enum": ["C", "F"],
                    "default": "C",
                    "description": "Temperature unit.",
                },
            },
            "required": ["city"],
        },
    }


def test_schema_of_function_without_parameters_or_docstring():
    def ping():
        pass

    assert function_schema(ping) == {
        "type": "function",
        "name": "ping",
        "description": "",
        "parameters": {"type": "object", "properties": {}},
    }


# --------------------------------------------------------------------------- unions, enums
class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Color(enum.Enum):
    """A paint colour."""

    RED = "red"
    BLUE = "blue"


def test_schema_of_optionals_unions_and_enums():
    def f(
        a: Optional[int],  # noqa: UP045 - the typing spelling is what users write
        b: Union[int, str] = 1,  # noqa: UP007
        c: int | None = None,
        p: Priority = Priority.LOW,
        color: Color = Color.RED,
    ): ...

    assert params(f) == {
        "type": "object",
        "properties": {
            "a": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "b": {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 1},
            "c": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "p": {"type": "integer", "enum": [1, 2], "default": 1},
            "color": {
                "type": "string",
                "enum": ["red", "blue"],
                "description": "A paint colour.",
                "default": "red",
            },
        },
        "required": ["a"],
    }


# --------------------------------------------------------------------------- containers
def test_schema_of_lists_tuples_and_dicts():
    def f(xs: list[int], pair: tuple[str, int], table: dict[str, float], anything: list = []): ...  # noqa: B006

    assert params(f) == {
        "type": "object",
        "properties": {
            "xs": {"type": "array", "items": {"type": "integer"}},
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "integer"}],
                "minItems": 2,
                "maxItems": 2,
            },
            "table": {"type": "object", "additionalProperties": {"type": "number"}},
            "anything": {"type": "array", "items": {}, "default": []},
        },
        "required": ["xs", "pair", "table"],
    }


# --------------------------------------------------------------------------- structured types
class Filters(TypedDict, total=False):
    min_price: float
    brand: str


class Range(TypedDict):
    low: int
    high: int


@dataclasses.dataclass
class Point:
    """A point on the map."""

    x: float
    y: float = 0.0


class Address(BaseModel):
    street: str
    city: str = Field(description="City name")


class Person(BaseModel):
    """Someone to contact."""

    name: str
    address: Address
    tags: list[str] = []


def test_schema_of_typing_typeddicts_total_and_partial():
    def search(query: str, filters: Filters, price: Range | None = None): ...

    assert params(search) == {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "filters": {
                "type": "object",
                "properties": {"min_price": {"type": "number"}, "brand": {"type": "string"}},
            },
            "price": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {"low": {"type": "integer"}, "high": {"type": "integer"}},
                        "required": ["low", "high"],
                    },
                    {"type": "null"},
                ],
                "default": None,
            },
        },
        "required": ["query", "filters"],
    }


def test_schema_inlines_dataclasses_and_nested_pydantic_models():
    def contact(pt: Point, who: Person): ...

    assert params(contact) == {
        "type": "object",
        "properties": {
            "pt": {
                "type": "object",
                "description": "A point on the map.",
                "properties": {"x": {"type": "number"}, "y": {"type": "number", "default": 0.0}},
                "required": ["x"],
            },
            "who": {
                "type": "object",
                "description": "Someone to contact.",
                "properties": {
                    "name": {"type": "string"},
                    "address": {
                        "type": "object",
                        "properties": {
                            "street": {"type": "string"},
                            "city": {"type": "string", "description": "City name"},
                        },
                        "required": ["street", "city"],
                    },
                    "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                },
                "required": ["name", "address"],
            },
        },
        "required": ["pt", "who"],
    }


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []


def test_schema_keeps_recursive_models_under_top_level_defs():
    def walk(tree: TreeNode): ...

    node = {
        "type": "object",
        "properties": {
            "value": {"type": "integer"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/TreeNode"}, "default": []},
        },
        "required": ["value"],
    }
    assert params(walk) == {
        "type": "object",
        "properties": {"tree": node},
        "required": ["tree"],
        "$defs": {"TreeNode": node},
    }


# --------------------------------------------------------------------------- Annotated, defaults
def test_schema_of_annotated_fields_beats_docstring_description():
    def book(
        seats: Annotated[int, Field(ge=1, le=8, description="How many seats")],
        name: Annotated[str, Field(min_length=1)],
        note: str = "",
    ):
        """Book a table.

        Args:
            seats: Ignored: the Field description wins.
            name: Guest name.
        """

    assert params(book) == {
        "type": "object",
        "properties": {
            "seats": {
                "type": "integer",
                "minimum": 1,
                "maximum": 8,
                "description": "How many seats",
            },
            "name": {"type": "string", "minLength": 1, "description": "Guest name."},
            "note": {"type": "string", "default": ""},
        },
        "required": ["seats", "name"],
    }


def test_schema_infers_types_of_untyped_parameters_from_defaults():
    def f(n=3, name="x", flag=False, ratio=0.5): ...

    assert params(f) == {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "default": 3},
            "name": {"type": "string", "default": "x"},
            "flag": {"type": "boolean", "default": False},
            "ratio": {"type": "number", "default": 0.5},
        },
    }


def test_schema_keeps_parameter_names_pydantic_reserves():
    def f(model_config: str, _private: int = 0, json: bool = False): ...

    assert params(f) == {
        "type": "object",
        "properties": {
            "model_config": {"type": "string"},
            "_private": {"type": "integer", "default": 0},
            "json": {"type": "boolean", "default": False},
        },
        "required": ["model_config"],
    }


def test_tool_options_override_name_and_description():
    @tool(name="lookup", description="Find a thing.")
    def find(q: str):
        """Docstring summary."""

    schema = function_schema(find)
    assert (schema["name"], schema["description"]) == ("lookup", "Find a thing.")


def test_schema_of_async_function_and_bound_method():
    class Shop:
        async def price(self, item: str) -> float:
            """Price of an item."""
            return 1.0

    assert function_schema(Shop().price) == {
        "type": "function",
        "name": "price",
        "description": "Price of an item.",
        "parameters": {
            "type": "object",
            "properties": {"item": {"type": "string"}},
            "required": ["item"],
        },
    }


# --------------------------------------------------------------------------- unsupported
def _star_args(*names: str): ...


def _star_kwargs(city: str, **extra: str): ...


def _untyped(city): ...


def _none_default(city=None): ...


class _Opaque:
    pass


def _opaque(thing: _Opaque): ...


@pytest.mark.parametrize(
    ("fn", "fragments"),
    [
        (_star_args, ["*names", "named parameter", "list[str]"]),
        (_star_kwargs, ["**extra", "dict[str, str]"]),
        (_untyped, ["'city'", "no type hint", "city: str"]),
        (_none_default, ["'city'", "no type hint", "default"]),
        (_opaque, ["'thing'", "_Opaque", "JSON"]),
        (lambda x: x, ["'<lambda>'", "name="]),
    ],
)
def test_unsupported_signature_fails_naming_parameter_and_fix(fn, fragments):
    with pytest.raises(ToolDefinitionError) as info:
        function_schema(fn)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_tool_decorator_rejects_bad_signature_where_it_is_defined():
    with pytest.raises(ToolDefinitionError, match="\\*args"):

        @tool
        def f(*args: int): ...


def test_tool_decorator_rejects_generators_with_a_fix():
    with pytest.raises(ToolDefinitionError, match="return a list"):

        @tool
        def f():
            yield 1


def test_undefined_type_in_a_hint_is_named_at_registration():
    def f(x: NotDefinedAnywhere): ...  # noqa: F821 - the point of the test

    with pytest.raises(ToolDefinitionError, match=r"NotDefinedAnywhere.*before registering"):
        function_schema(f)
