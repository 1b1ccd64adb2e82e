"""The pytest plugin ``realtime_widget.testing.fixtures``, run as a user would (pytester)."""

from __future__ import annotations

import textwrap
import threading

import pytest

import realtime_widget.testing as testing
from realtime_widget.testing import Call, ScriptedBrain, SwappableBrain
from tests.helpers import UNIT

# ``converse`` lives in the plugin module: it is looked up at call time (``testing.converse``) so
# that pytest imports the plugin first and can rewrite its asserts.

pytest_plugins = ["pytester", "realtime_widget.testing.fixtures"]

USER_TESTS = textwrap.dedent(
    '''
    import json

    import pytest

    from realtime_widget.testing import Call, converse

    pytest_plugins = ["realtime_widget.testing.fixtures"]

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    def test_model_calls_my_tool_and_uses_its_output(realtime_client, scripted_brain):
        brain = scripted_brain([Call("add", {"a": 2, "b": 3}), "The sum is 5."])
        realtime_client.add_tool(add)
        reply = converse(realtime_client, "what is 2 + 3?")
        [call] = realtime_client.tools.history
        assert call.name == "add" and call.parsed_arguments == {"a": 2, "b": 3}
        assert call.output == "5" and call.status == "ok"
        assert reply["formatted"]["transcript"] == "The sum is 5."
        shown = brain.contexts[-1].items[-1]
        assert shown["type"] == "function_call_output" and shown["output"] == "5"

    def test_echo_brain_answers_by_default(realtime_client):
        reply = converse(realtime_client, "hello")
        assert reply["formatted"]["transcript"] == "You said: hello"

    def test_a_wrong_tool_result_fails_the_users_test(realtime_client, scripted_brain):
        scripted_brain([Call("add", {"a": 2, "b": 2}), "ok"])
        realtime_client.add_tool(add)
        converse(realtime_client, "add")
        assert realtime_client.tools.history[0].output == "5"

    async def test_works_in_async_tests_too(realtime_client, realtime_server):
        assert realtime_client.is_connected and realtime_server.url.startswith("ws://127.0.0.1")
    '''
)


def test_plugin_lets_a_user_test_their_own_tool_without_a_network(pytester):
    pytester.makepyfile(test_user_tools=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "asyncio", "--asyncio-mode=auto", "-q")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_a_wrong_tool_result_fails_the_users_test*"])
    result.stdout.fnmatch_lines(["*assert '4' == '5'*"])


def test_server_options_can_be_overridden_by_the_user(pytester):
    pytester.makepyfile(
        test_options=textwrap.dedent(
            """
            import pytest
            from realtime_widget.testing import EchoBrain, converse

            pytest_plugins = ["realtime_widget.testing.fixtures"]

            @pytest.fixture
            def realtime_server_options():
                return {"brain": EchoBrain(prefix="Echo: ")}

            @pytest.fixture
            def realtime_client_options():
                return {"session_config": {"instructions": "be brief"}}

            def test_options(realtime_client):
                assert converse(realtime_client, "hi")["formatted"]["transcript"] == "Echo: hi"
                assert realtime_client.session["instructions"] == "be brief"
            """
        )
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)


def test_fixtures_connect_with_the_local_key_and_swap_brains(realtime_client, realtime_server):
    assert realtime_server.api_key == "sk-local-test"
    assert isinstance(realtime_server.brain, SwappableBrain)
    assert realtime_client.is_connected


def test_scripted_brain_takes_effect_on_an_already_open_session(realtime_client, scripted_brain):
    brain = scripted_brain(["first", "second"])
    assert isinstance(brain, ScriptedBrain)
    assert testing.converse(realtime_client, "a")["formatted"]["transcript"] == "first"
    assert testing.converse(realtime_client, "b")["formatted"]["transcript"] == "second"
    assert testing.converse(realtime_client, "c")["formatted"]["transcript"] == "You said: c"


def test_converse_says_when_no_final_answer_comes(realtime_client, scripted_brain):
    release = threading.Event()

    def hang() -> str:
        """Never answers in time."""
        release.wait(10 * UNIT)
        return "late"

    realtime_client.add_tool(hang)
    scripted_brain([Call("hang", {})])
    try:
        with pytest.raises(TimeoutError, match=r"no final answer to .go.*1 responses finished"):
            testing.converse(realtime_client, "go", timeout=0.3 * UNIT)
    finally:
        release.set()


def test_testing_package_exports_resolve_lazily():
    for name in testing.__all__:
        assert getattr(testing, name) is not None
    with pytest.raises(AttributeError):
        testing.nothing_here  # noqa: B018
