"""ToolRegistry registration: add/remove/redefine, change notifications, history, exports."""

from __future__ import annotations

import asyncio
import threading

import pytest

import realtime_widget
import realtime_widget.tools as tools_pkg
from realtime_widget.tools import (
    ToolCallRecord,
    ToolDefinitionError,
    ToolRegistry,
    function_schema,
    tool,
)
from tests.helpers import UNIT


def get_time(zone: str = "UTC") -> str:
    """Current time in a zone."""
    return "12:00"


def test_registry_lists_definitions_for_session_tools():
    registry = ToolRegistry()
    registry.add(get_time)
    assert "get_time" in registry
    assert len(registry) == 1
    assert list(registry) == ["get_time"]
    assert registry.definitions() == [function_schema(get_time)]


def test_definitions_are_copies_the_caller_may_change():
    registry = ToolRegistry()
    registry.add(get_time)
    registry.definitions()[0]["name"] = "changed"
    assert registry.definitions()[0]["name"] == "get_time"


def test_on_change_fires_once_per_add_redefinition_and_removal():
    registry = ToolRegistry()
    changes = []
    unsubscribe = registry.on_change(lambda: changes.append(list(registry)))
    registry.add(get_time)
    registry.add(get_time, timeout=5)  # re-running the cell
    registry.remove("get_time")
    assert changes == [["get_time"], ["get_time"], []]
    unsubscribe()
    registry.add(get_time)
    assert len(changes) == 3


async def test_redefinition_replaces_the_handler_and_definition():
    registry = ToolRegistry()

    @registry.tool
    def greet(name: str) -> str:
        return f"hello {name}"

    @registry.tool
    def greet(name: str, loud: bool = False) -> str:  # noqa: F811 - redefining a cell
        return f"HELLO {name}"

    assert len(registry) == 1
    assert set(registry.definitions()[0]["parameters"]["properties"]) == {"name", "loud"}
    assert (await registry.invoke("c", "greet", '{"name": "Ada"}')).output == "HELLO Ada"


def test_registry_tool_decorator_bare_and_with_options_returns_the_function():
    registry = ToolRegistry()

    @registry.tool
    def one() -> int:
        return 1

    @registry.tool(name="two_renamed", timeout=None, requires_approval=True, thread="main")
    def two() -> int:
        return 2

    assert one() == 1 and two() == 2
    assert list(registry) == ["one", "two_renamed"]
    options = registry["two_renamed"].options
    assert (options.timeout, options.requires_approval, options.thread) == (None, True, "main")


def test_add_options_override_those_given_to_tool():
    @tool(timeout=3, description="Marked.")
    def marked() -> None: ...

    registry = ToolRegistry()
    registered = registry.add(marked, timeout=9)
    assert (registered.options.timeout, registered.definition["description"]) == (9, "Marked.")


def test_unknown_option_and_bad_thread_are_refused_with_the_valid_choices():
    registry = ToolRegistry()
    with pytest.raises(TypeError, match="valid options are"):
        registry.add(get_time, retries=3)
    with pytest.raises(ValueError, match="'worker' or 'main'"):
        registry.add(get_time, thread="gpu")


def test_seed_definition_form_needs_a_name_and_a_handler():
    registry = ToolRegistry()
    with pytest.raises(ToolDefinitionError, match="needs a 'name'"):
        registry.add({"description": "x"}, lambda args: None)
    with pytest.raises(ToolDefinitionError, match="callable handler"):
        registry.add({"name": "x"})
    with pytest.raises(ToolDefinitionError, match="only for the definition form"):
        registry.add(get_time, lambda args: None)


def test_remove_unknown_tool_names_the_registered_ones():
    registry = ToolRegistry()
    registry.add(get_time)
    with pytest.raises(KeyError, match="get_time"):
        registry.remove("nope")
    registry.remove("nope", missing_ok=True)
    assert list(registry) == ["get_time"]


def test_failing_change_listener_does_not_break_registration(caplog):
    registry = ToolRegistry()
    registry.on_change(lambda: 1 / 0)
    registry.add(get_time)
    assert "get_time" in registry
    assert "ZeroDivisionError" in caplog.text


def test_concurrent_adds_and_removes_from_threads_keep_the_registry_consistent():
    registry = ToolRegistry()
    changes = []
    registry.on_change(lambda: changes.append(1))
    errors = []

    def churn(i: int) -> None:
        try:
            for _ in range(20):
                registry.add(get_time, name=f"t{i}")
                registry.definitions()
                registry.remove(f"t{i}")
            registry.add(get_time, name=f"t{i}")
        except Exception as exc:  # pragma: no cover - the failure we look for
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10 * UNIT)
    assert errors == []
    assert sorted(registry) == ["t0", "t1", "t2", "t3"]
    assert len(changes) == 4 * 41


async def test_history_records_every_call_and_converts_to_a_dataframe():
    registry = ToolRegistry()
    registry.add(get_time)
    records = []
    registry.on_record(records.append)
    await registry.invoke("c1", "get_time", "{}")
    await registry.invoke("c2", "missing", "{}")
    frame = registry.history.to_dataframe()
    assert list(frame["call_id"]) == ["c1", "c2"]
    assert list(frame["status"]) == ["ok", "error"]
    assert {"arguments", "result", "error", "duration", "approved_by", "output"} <= set(frame)
    assert registry.history.to_pandas().shape == frame.shape
    assert registry.history.failed() == [registry.history[1]]
    assert registry.history.by_call_id("c1").output == "12:00"
    # on_record: once when the call arrives and once when it is done
    assert [r.call_id for r in records] == ["c1", "c1", "c2", "c2"]


def test_record_repr_is_short_and_names_the_error():
    record = ToolCallRecord(call_id="c", name="n", arguments="{}", started_at=None)  # type: ignore[arg-type]
    record.status, record.error = "error", {"type": "timeout", "message": "x" * 1000}
    assert repr(record) == "ToolCallRecord(call_id='c', name='n', status='error', error='timeout')"


def test_tools_package_exports_its_contract_names():
    for name in ("ToolRegistry", "tool", "function_schema", "ToolCallRecord"):
        assert name in tools_pkg.__all__
        assert getattr(tools_pkg, name) is not None
    for name in ("ToolRegistry", "tool", "function_schema"):
        assert getattr(realtime_widget, name) is getattr(tools_pkg, name)


async def test_invoke_accepts_arguments_given_as_a_dict():
    registry = ToolRegistry()
    registry.add(get_time)
    record = await asyncio.wait_for(registry.invoke("c", "get_time", {"zone": "CET"}), 5 * UNIT)
    assert (record.arguments, record.parsed_arguments) == ('{"zone": "CET"}', {"zone": "CET"})


async def test_history_keeps_only_the_newest_records_beyond_max_history():
    registry = ToolRegistry(max_history=3)
    registry.add(get_time)
    for i in range(5):
        await registry.invoke(f"c{i}", "get_time", "{}")
    assert [r.call_id for r in registry.history] == ["c2", "c3", "c4"]


async def test_tool_decorated_methods_register_as_bound_methods():
    class Thermostat:
        def __init__(self) -> None:
            self.target = 20

        @tool(timeout=5)
        def set_target(self, celsius: int) -> int:
            """Set the target temperature."""
            self.target = celsius
            return self.target

    device = Thermostat()
    registry = ToolRegistry()
    registered = registry.add(device.set_target)
    assert registered.options.timeout == 5
    assert list(registered.definition["parameters"]["properties"]) == ["celsius"]
    assert (await registry.invoke("c", "set_target", '{"celsius": 23}')).output == "23"
    assert device.target == 23


async def test_positional_only_partial_and_callable_objects_are_tools():
    import functools

    def scale(x: float, /, factor: float = 2.0) -> float:
        return x * factor

    class Doubler:
        async def __call__(self, n: int) -> int:
            return 2 * n

    registry = ToolRegistry()
    registry.add(scale)
    registry.add(functools.partial(scale, factor=10.0), name="times_ten")
    registry.add(Doubler(), name="double")
    assert registry["double"].is_async
    assert (await registry.invoke("a", "scale", '{"x": 1.5}')).output == "3.0"
    assert (await registry.invoke("b", "times_ten", '{"x": 2}')).output == "20.0"
    assert (await registry.invoke("c", "double", '{"n": 4}')).output == "8"


def test_history_dataframe_without_pandas_says_how_to_install_it(monkeypatch):
    import sys

    registry = ToolRegistry()
    monkeypatch.setitem(sys.modules, "pandas", None)  # what `import pandas` sees when absent
    with pytest.raises(ImportError, match=r"pip install pandas"):
        registry.history.to_dataframe()


@pytest.mark.parametrize(
    "name",
    ["x" * 300, "get\x00time", "get\u202etime", "get time", "x" * 65, "ok\n"],
)
def test_registry_refuses_tool_names_the_api_refuses_in_both_forms(name):
    registry = ToolRegistry()
    with pytest.raises(ValueError, match="1-64 letters, digits") as info:
        registry.add({"name": name, "parameters": {"type": "object"}}, lambda args: None)
    assert isinstance(info.value, ToolDefinitionError)
    assert "\x00" not in str(info.value) and "\u202e" not in str(info.value)  # shown escaped
    assert len(str(info.value)) < 300
    with pytest.raises(ValueError, match="1-64 letters, digits"):
        registry.add(get_time, name=name)
    assert list(registry) == []


def test_registry_accepts_a_64_character_name_with_dashes_and_underscores():
    registry = ToolRegistry()
    name = "a-b_" + "c" * 60
    registry.add({"name": name}, lambda args: None)
    assert name in registry
