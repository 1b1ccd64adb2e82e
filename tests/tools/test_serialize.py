"""Tool results -> output text: JSON for plain data, summaries for big objects, a size cap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json

import numpy as np
import pandas as pd
from pydantic import BaseModel

from realtime_widget.tools.serialize import SerializeLimits, serialize_result, to_jsonable


@dataclasses.dataclass
class Reading:
    sensor: str
    value: float


class Forecast(BaseModel):
    city: str
    temps: list[int]


class Mood(enum.Enum):
    HAPPY = "happy"


def test_plain_data_is_compact_json():
    assert (
        serialize_result({"a": [1, 2.5, None, True], 3: "x"}) == '{"a":[1,2.5,null,true],"3":"x"}'
    )


def test_string_result_is_sent_as_is():
    assert serialize_result("It is sunny.") == "It is sunny."


def test_dataclasses_pydantic_models_and_enums_become_objects():
    value = {"r": Reading("t1", 20.5), "f": Forecast(city="Oslo", temps=[1, 2]), "m": Mood.HAPPY}
    assert json.loads(serialize_result(value)) == {
        "r": {"sensor": "t1", "value": 20.5},
        "f": {"city": "Oslo", "temps": [1, 2]},
        "m": "happy",
    }


def test_numpy_scalars_and_small_arrays_become_numbers_and_lists():
    value = {"n": np.int64(3), "x": np.float32(0.5), "a": np.arange(4).reshape(2, 2)}
    assert json.loads(serialize_result(value)) == {"n": 3, "x": 0.5, "a": [[0, 1], [2, 3]]}


def test_big_numpy_array_is_summarised_with_shape_dtype_and_head():
    limits = SerializeLimits(max_array_items=100, head_items=3)
    assert to_jsonable(np.zeros((20, 10), dtype=np.float32), limits) == {
        "type": "ndarray",
        "shape": [20, 10],
        "dtype": "float32",
        "head": [0.0, 0.0, 0.0],
        "note": "large array summarised: first 3 of 200 elements (flattened)",
    }


def test_dataframe_is_summarised_with_shape_columns_and_head_records():
    frame = pd.DataFrame({"city": ["Oslo", "Rome", "Lima"], "temp": [3, 18, 20]})
    assert to_jsonable(frame, SerializeLimits(head_items=2)) == {
        "type": "DataFrame",
        "shape": [3, 2],
        "columns": ["city", "temp"],
        "dtypes": {"city": str(frame.dtypes["city"]), "temp": "int64"},
        "head": [{"city": "Oslo", "temp": 3}, {"city": "Rome", "temp": 18}],
        "note": "first 2 of 3 rows",
    }


def test_series_is_summarised_with_name_length_and_head():
    series = pd.Series([1.5, 2.5], index=["a", "b"], name="price")
    assert to_jsonable(series) == {
        "type": "Series",
        "name": "price",
        "length": 2,
        "dtype": "float64",
        "head": {"a": 1.5, "b": 2.5},
    }


def test_bytes_are_summarised_not_sent():
    summary = to_jsonable(b"\x00" * 1000)
    assert summary["type"] == "bytes"
    assert summary["length"] == 1000


def test_unknown_objects_become_repr_with_a_note():
    class Thing:
        def __repr__(self) -> str:
            return "<Thing 7>"

    assert to_jsonable(Thing()) == {
        "type": "Thing",
        "repr": "<Thing 7>",
        "note": "not JSON-serialisable; this is its repr()",
    }


def test_dates_nan_and_cycles_do_not_break_json():
    loop: list = []
    loop.append(loop)
    value = {"when": dt.date(2026, 1, 2), "nan": float("nan"), "loop": loop}
    assert json.loads(serialize_result(value)) == {
        "when": "2026-01-02",
        "nan": "nan",
        "loop": ["<cycle>"],
    }


def test_output_never_exceeds_the_cap_and_says_it_was_cut():
    text = serialize_result(list(range(10_000)), SerializeLimits(max_chars=200))
    assert len(text) <= 200
    assert text.endswith("shown]")
    assert "truncated" in text
