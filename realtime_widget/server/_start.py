"""Starting a response: effective settings, the brain's plan, ``response.created`` (pure)."""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable

from realtime_widget.server import _events
from realtime_widget.server._items import Conversation
from realtime_widget.server._mcp import ApprovedCall, McpRoute, McpTools
from realtime_widget.server._response import ResponseRun
from realtime_widget.server.brains import Brain, BrainContext, Call, item_text

__all__ = ["continue_response", "input_tokens", "start_response"]


def input_tokens(items: list[dict]) -> int:
    """Estimated input tokens of a brain's view (about 4 characters per token)."""
    return sum(math.ceil(len(item_text(i)) / 4) for i in items)


def start_response(
    session: dict,
    params: dict,
    conversation: Conversation,
    brain: Brain,
    new_id: Callable[[str], str],
    parallel: bool = True,
    defer: bool = False,
    mcp: McpTools | None = None,
    approved: list[ApprovedCall] | None = None,
) -> tuple[list[dict], ResponseRun | None]:
    """Create a response from the session and a ``response.create``'s overrides.

    Args:
        session: the effective session (GA).
        params: the checked ``response`` object (``{}`` for an automatic response).
        conversation: the conversation (read, and written unless ``conversation: "none"``).
        brain: who decides the output items.
        new_id: id factory.
        parallel: the session's ``parallel_tool_calls`` (``False`` keeps only the first call).
        defer: leave the brain to the I/O layer: the run starts with an open plan and
            ``run.context()`` builds the brain's view when it is asked (after the input's
            transcriptions arrive), for streaming brains and slow transcribers (DESIGN §10).
        mcp: the session's MCP servers: their listed tools join the brain's tools, and calls
            to them become ``mcp_call`` items.
        approved: MCP calls the user approved since the last response: made first, then the
            brain is asked with their results.

    Returns:
        ``(events, run)``: ``response.created`` (plus ``response.done`` when the brain failed,
        then ``run`` is ``None``) and the run that produces the rest.

    Raises:
        ClientError: an ``input`` item reference is unknown or an inline item is invalid.
    """
    out_audio = {**session["audio"]["output"], **(params.get("audio") or {}).get("output", {})}
    out_of_band = params.get("conversation") == "none"
    records = (
        _events.resolve_input(params["input"], conversation, new_id)
        if "input" in params
        else conversation.records()
    )
    configured = params.get("tools", session["tools"])
    choice = params.get("tool_choice", session["tool_choice"])

    def effective_tools() -> list[dict]:
        # MCP tools as listed when the brain is asked (a deferred response waits for listings)
        mcp_tools = mcp.brain_tools(configured, choice) if mcp is not None else []
        tools = [t for t in configured if t.get("type") != "mcp"]
        if choice == "none":
            return []
        if isinstance(choice, dict) and choice.get("type") == "mcp":
            return mcp_tools
        if isinstance(choice, dict):
            return [t for t in tools if t.get("name") == choice.get("name")]
        return [*tools, *mcp_tools]

    function_names = {
        t.get("name") for t in configured if isinstance(t, dict) and t.get("type") == "function"
    }

    def route(call: Call) -> McpRoute | None:
        if mcp is None or (call.server_label is None and call.name in function_names):
            return None
        return mcp.route(call.name, call.server_label)

    response = {
        "object": "realtime.response",
        "id": new_id("resp_"),
        "status": "in_progress",
        "status_details": None,
        "output": [],
        "conversation_id": None if out_of_band else conversation.id,
        "output_modalities": params.get("output_modalities", session["output_modalities"]),
        "max_output_tokens": params.get("max_output_tokens", session["max_output_tokens"]),
        "audio": {"output": {"format": out_audio["format"], "voice": out_audio["voice"]}},
        "usage": None,
        "metadata": params.get("metadata"),
    }
    created = [{"type": "response.created", "response": copy.deepcopy(response)}]
    instructions = params.get("instructions", session["instructions"])
    metadata = dict(params.get("metadata") or {})

    def context() -> BrainContext:
        return BrainContext(
            items=conversation.brain_view(records),
            tools=effective_tools(),
            instructions=instructions,
            output_modalities=response["output_modalities"],
            tool_choice=choice,
            metadata=metadata,
            max_output_tokens=response["max_output_tokens"],
            temperature=session.get("temperature"),
        )

    single_call = not params.get("parallel_tool_calls", parallel)
    target = None if out_of_band else conversation

    def prepared(run: ResponseRun) -> ResponseRun:
        run.single_call, run.route, run.resume, run.deferred = single_call, route, context, defer
        return run

    if approved:  # the approved calls first; the brain continues with their results
        return created, prepared(ResponseRun(response, list(approved), target, new_id))
    if defer:
        run = prepared(ResponseRun(response, None, target, new_id))
        run.context = context
        return created, run
    view = context()
    tokens = input_tokens(view.items)
    try:
        plan = list(brain.respond(view))
    except Exception as exc:  # a faulty brain fails its response, never the session
        response.update(
            status="failed",
            status_details={
                "type": "failed",
                "error": {"type": "server_error", "code": type(exc).__name__},
            },
        )
        return [*created, {"type": "response.done", "response": response}], None
    if single_call:
        calls = [p for p in plan if isinstance(p, Call)]
        plan = [p for p in plan if not isinstance(p, Call) or p is calls[0]]
    run = prepared(ResponseRun(response, plan, target, new_id, tokens))
    return created, run


def continue_response(run: ResponseRun, brain: Brain) -> list[dict]:
    """Ask the brain again after MCP results (``run.wants_brain``): same response, more output.

    The brain's view is the response's input plus its output so far (the ``mcp_call`` items with
    their results). A streamed brain is left to the I/O layer (``run.context``); another is asked
    here.

    Returns:
        The events of a failure (the brain raised: the response fails), else ``[]``.
    """
    run.wants_brain = False
    resume = run.resume
    assert resume is not None

    def context() -> BrainContext:
        view = resume()
        seen = {item.get("id") for item in view.items}
        done = [copy.deepcopy(i) for i in run.response["output"] if i.get("id") not in seen]
        return dataclasses.replace(view, items=[*view.items, *done])

    if run.deferred:
        run.reopen(context)
        return []
    run.reopen(None)
    try:
        plan = list(brain.respond(context()))
    except Exception as exc:  # a faulty brain fails its response, never the session
        return run.fail(f"The brain failed: {type(exc).__name__}: {exc}", type(exc).__name__)
    for piece in plan:
        if not run.feed(piece):
            break
    run.close_plan()
    return []
