"""The client's collaborators (issue 16, point 3): no mixins, a wire-named dispatch table, and
the carry-over between sessions driven with plain data (no socket)."""

from __future__ import annotations

from realtime_widget.client import RealtimeClient, ResponseHandle
from realtime_widget.client._carryover import Carryover
from realtime_widget.client._events import _HANDLERS
from realtime_widget.client._handles import ResponseTracker
from realtime_widget.client._mcp import McpServers
from realtime_widget.client._outputs import ToolOutputs
from realtime_widget.client._responses import ResponseSequencer
from realtime_widget.client._tool_calls import ToolCalls
from realtime_widget.conversation import RealtimeConversation
from realtime_widget.events import RealtimeEventHandler
from realtime_widget.protocol import SERVER_EVENTS
from realtime_widget.tools import ToolRegistry


def test_client_is_an_event_handler_built_from_collaborators_not_mixins():
    assert RealtimeClient.__mro__ == (RealtimeClient, RealtimeEventHandler, object)


def test_client_event_table_names_each_handler_after_its_ga_server_event():
    for kind in _HANDLERS:
        assert kind in SERVER_EVENTS["ga"] | SERVER_EVENTS["beta"], kind
    # STYLE 6: wire names kept; shared handlers are the beta alias and the two text deltas.
    aliases = {
        "conversation.item.created": "_on_conversation_item_added",
        "response.output_text.delta": "_on_response_output",
        "response.output_audio_transcript.delta": "_on_response_output",
    }
    for kind, handler in _HANDLERS.items():
        expected = aliases.get(kind, "_on_" + kind.replace(".", "_"))
        assert handler.__name__ == expected, kind


def _user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _carryover(sent: list[tuple[str, dict | None]]) -> Carryover:
    def send(kind: str, payload: dict | None = None) -> dict:
        sent.append((kind, payload))
        return {"type": kind, "event_id": f"evt_{len(sent)}"}

    def new_handle(params: dict | None) -> ResponseHandle:
        return ResponseHandle(params, in_runtime_thread=lambda: False, cancel=lambda h: None)

    responses = ResponseSequencer(lambda params: send("response.create", params))
    tools = ToolRegistry()
    return Carryover(
        send,
        RealtimeConversation(),
        ToolOutputs(),
        ToolCalls(tools, lambda call_id, output: False, responses.request),
        McpServers(),
        responses,
        ResponseTracker(new_handle, lambda handle: None),
        relay=False,
        run=lambda fn, args: fn(*args),
    )


def test_carryover_says_unacknowledged_messages_again_and_asks_one_response_for_all():
    sent: list[tuple[str, dict | None]] = []
    carryover = _carryover(sent)
    carryover.message_sent(_user("one"))
    carryover.message_sent(_user("two"))
    carryover.on_item_announced({"id": "item_1", **_user("one")})  # the server has the first
    carryover.owe([None])  # and the lost session left a turn unanswered
    assert carryover.has_history()
    assert carryover.replay() == 0  # no conversation items to replay
    assert [kind for kind, _ in sent] == ["conversation.item.create", "response.create"]
    assert sent[0][1] == {"item": _user("two")}
    sent.clear()  # not announced yet: said again (its response waits behind the first one)
    assert carryover.replay() == 0
    assert sent == [("conversation.item.create", {"item": _user("two")})]


def test_carryover_runs_held_sends_in_order_or_drops_them_when_the_session_ends():
    carryover = _carryover([])
    ran: list[int] = []
    carryover.hold(ran.append, (1,))
    carryover.hold(ran.append, (2,))
    assert carryover.holding
    carryover.send_held()
    assert ran == [1, 2] and not carryover.holding
    carryover.hold(ran.append, (3,))
    carryover.owe([None])
    assert carryover.end() == 1  # dropped, and nothing is owed any more
    carryover.send_held()
    assert ran == [1, 2] and not carryover.holding
