"""Browser -> kernel half of the widget: one handler per custom message type.

The widget's comm handler only hands each message to the runtime loop and returns (DESIGN §3);
these handlers then run there. Message shapes: docs/widget-protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from realtime_widget.images import ImageError
from realtime_widget.widget._audio import item_audio
from realtime_widget.widget._captions import caption_download
from realtime_widget.widget._download import download_payload

if TYPE_CHECKING:  # pragma: no cover
    from realtime_widget.widget import RealtimeWidget

__all__ = ["cancel_everything", "handle_browser_message", "truncate_at_last_reports"]

logger = logging.getLogger("realtime_widget.widget")

_MIN_TURN_SAMPLES = 2400  # 100 ms at 24 kHz: the server refuses shorter commits


def handle_browser_message(widget: RealtimeWidget, content: dict[str, Any], buffers: list) -> None:
    """Run the handler for one browser message (on the runtime loop); never raises."""
    kind = content.get("type") if isinstance(content, dict) else None
    handler = _HANDLERS.get(kind)
    if handler is None:
        logger.info("= ignored browser message %r", kind)
        return
    try:
        handler(widget, content, buffers)
    except Exception as exc:  # a bad message must not kill the runtime loop
        logger.exception("= browser message %r failed", kind)
        widget._sync.add_error("kernel", f"{kind}_failed", f"{kind}: {exc}")


def _on_hello(w: RealtimeWidget, content: dict, buffers: list) -> None:
    w._sync.views_attached.add(str(content.get("view")))
    w._sync.refresh_snapshot()


def _on_bye(w: RealtimeWidget, content: dict, buffers: list) -> None:
    w._sync.views_attached.discard(str(content.get("view")))


def _on_connect(w: RealtimeWidget, content: dict, buffers: list) -> None:
    w._start_connect()


def _on_disconnect(w: RealtimeWidget, content: dict, buffers: list) -> None:
    w._start_disconnect()


def _on_audio(w: RealtimeWidget, content: dict, buffers: list) -> None:
    captioner = w._captioner
    if captioner is not None:  # transcribe / translate modes: the mic feeds their session
        if buffers and (captioner.is_connected or captioner.is_reconnecting):
            captioner.append_input_audio(np.frombuffer(buffers[0], dtype="<i2"))
        return
    if not buffers or not w.client.is_connected:
        return  # mic audio while disconnected has nowhere to go
    samples = np.frombuffer(buffers[0], dtype="<i2")
    w._turn_samples += len(samples)
    w.client.append_input_audio(samples)


def _apply_played(w: RealtimeWidget, reports: list) -> list[tuple[str, int, int]]:
    """Record played counts; returns the parts cut mid-way (played < forwarded)."""
    cut = []
    for report in reports or []:
        item_id = str(report.get("item_id", ""))
        index = int(report.get("content_index", 0))
        samples = int(report.get("samples", 0))
        key = f"{item_id}:{index}"
        if samples < w._sync.played.get(key, 0):
            continue  # reports are cumulative; an older one arrived late
        w._sync.played[key] = samples
        if w.client.is_connected:
            w.client.report_played(item_id, index, samples)
        if 0 < samples < w._sync.outbox.forwarded(item_id, index):
            cut.append((item_id, index, samples))
    return cut


def _truncate(w: RealtimeWidget, cut: list[tuple[str, int, int]], cancel: bool) -> None:
    """Truncate each cut part at what was played; cancel the response when asked and active."""
    if not w.client.is_connected:
        return
    for item_id, _index, samples in cut:
        # The client cuts at min(played, received), skips useless truncates and sends
        # response.cancel only if a response is active (issue 4).
        w.client.cancel_response(item_id, samples)
    if cancel and not cut and w.client.response_active:
        w.client.cancel_response()


def _on_interrupted(w: RealtimeWidget, content: dict, buffers: list) -> None:
    # The answer to a `clear` frame: server VAD interrupted; the server cancelled the response
    # itself (interrupt_response), the truncate is ours to send, at what was really heard.
    w._sync.interrupt_answered()
    _truncate(w, _apply_played(w, content.get("played")), cancel=False)


def truncate_at_last_reports(w: RealtimeWidget) -> None:
    """No view answered a `clear` frame: truncate at the last played counts reported."""
    reports = []
    for key, samples in w._sync.played.items():
        item_id, _, index = key.rpartition(":")
        reports.append({"item_id": item_id, "content_index": int(index), "samples": samples})
    cut = [
        (r["item_id"], r["content_index"], r["samples"])
        for r in reports
        if 0 < r["samples"] < w._sync.outbox.forwarded(r["item_id"], r["content_index"])
    ]
    _truncate(w, cut, cancel=False)


def _on_stop(w: RealtimeWidget, content: dict, buffers: list) -> None:
    # The browser has already emptied its player; drop what is still on its way to it.
    w._sync.clear_playback(notify_browser=False)
    _truncate(w, _apply_played(w, content.get("played")), cancel=True)


def _on_ptt_start(w: RealtimeWidget, content: dict, buffers: list) -> None:
    _on_stop(w, content, buffers)
    w._turn_samples = 0


def _on_cancel_tools(w: RealtimeWidget, content: dict, buffers: list) -> None:
    # The Stop button (after its `stop`): running tools too (issue 15). Kept apart from `stop`,
    # which Disconnect and push-to-talk also send: talking again must not kill a tool.
    w.client.cancel_tools()


def cancel_everything(w: RealtimeWidget) -> None:
    """``w.cancel()``: stop playback in every view, the active response and running tools."""
    # The views stop their players and answer `interrupted` with what was heard; the truncate
    # is sent from that answer (`_on_interrupted`), as for a server-VAD interruption.
    w._sync.clear_playback(notify_browser=True)
    if w.client.is_connected and w.client.response_active:
        w.client.cancel_response()
    w.client.cancel_tools()


def _on_ptt_stop(w: RealtimeWidget, content: dict, buffers: list) -> None:
    if not w.client.is_connected:
        return
    if w._turn_samples < _MIN_TURN_SAMPLES:
        w._sync.add_error(
            "kernel",
            "input_too_short",
            "Push-to-talk captured under 100 ms of audio: hold the microphone button while "
            "speaking (or click it once to start and again to stop).",
        )
        return
    w._turn_samples = 0
    w.client.create_response()  # commits the turn's audio first (manual turns)


def _on_played(w: RealtimeWidget, content: dict, buffers: list) -> None:
    _apply_played(w, content.get("played"))


def _on_text(w: RealtimeWidget, content: dict, buffers: list) -> None:
    text = str(content.get("text") or "").strip()
    if not text:
        return
    if not (w.client.is_connected or w.client.is_reconnecting):  # reconnecting: the client holds it
        w._sync.add_error("kernel", "not_connected", "Not connected: press Connect, then send.")
        return
    w.client.send_user_message_content([{"type": "input_text", "text": text}])


def _on_image(w: RealtimeWidget, content: dict, buffers: list) -> None:
    # A pasted or dropped image: its bytes arrive as a binary buffer (no base64 on the comm).
    if not (w.client.is_connected or w.client.is_reconnecting):
        w._sync.add_error("kernel", "not_connected", "Not connected: press Connect, then paste.")
        return
    if not buffers:
        w._sync.add_error("kernel", "invalid_image", "The image arrived without its bytes.")
        return
    text = str(content.get("text") or "").strip() or None
    name = str(content.get("name") or "the image")[:100]
    try:
        w.client.send_image(buffers[0], text=text)
    except ImageError as exc:  # the browser checks too; this is the authoritative check
        w._sync.add_error("kernel", "invalid_image", f"{name}: {exc}")


def _on_approve(w: RealtimeWidget, content: dict, buffers: list) -> None:
    w.client.tools.approve(str(content.get("call_id", "")))


def _on_deny(w: RealtimeWidget, content: dict, buffers: list) -> None:
    w.client.tools.deny(str(content.get("call_id", "")))


def _on_mcp_approve(w: RealtimeWidget, content: dict, buffers: list) -> None:
    request_id = str(content.get("request_id", ""))
    try:
        w.client.approve_mcp(request_id, bool(content.get("approve")))
    except (ValueError, RuntimeError) as exc:  # answered already, or not connected: say so
        w._sync.add_error("kernel", "mcp_approval_failed", str(exc))


def _on_replay(w: RealtimeWidget, content: dict, buffers: list) -> None:
    item_id = str(content.get("item_id", ""))
    samples = item_audio(w.client, item_id)
    if samples is None or not len(samples):
        w._sync.add_error("kernel", "no_audio", f"Item {item_id} has no audio to replay.")
        return
    message = {
        "type": "replay_audio",
        "request_id": content.get("request_id"),
        "item_id": item_id,
        "content_index": 0,
    }
    w._sync._safe(w.send, message, [np.asarray(samples, dtype="<i2").tobytes()])


def _on_clear(w: RealtimeWidget, content: dict, buffers: list) -> None:
    # "New conversation": runs as a task (it waits for the server's confirmations); a failure
    # shows as an alert, the conversation then still shows what was not deleted.
    async def run() -> None:
        try:
            await w._clear(10.0)
        except Exception as exc:
            w._sync.add_error("kernel", "clear_failed", str(exc))

    task = asyncio.ensure_future(run())
    _BACKGROUND.add(task)  # held until done: the loop keeps only weak references to tasks
    task.add_done_callback(_BACKGROUND.discard)


def _on_download(w: RealtimeWidget, content: dict, buffers: list) -> None:
    # The file is built here (the kernel holds the audio); the browser saves the bytes it gets.
    reply: dict[str, Any] = {"type": "download", "request_id": content.get("request_id")}
    try:
        fmt = str(content.get("format", ""))
        if w._captioner is not None:  # transcribe / translate modes: captions, translated audio
            filename, mime, data = caption_download(w._captioner, fmt)
        else:
            filename, mime, data = download_payload(w.client, fmt)
    except ValueError as exc:  # no audio yet, or an unknown format: the browser shows why
        reply["error"] = str(exc)
        w._sync.add_error("kernel", "download_failed", f"Download: {exc}")
        w._sync._safe(w.send, reply, [])
        return
    reply.update(filename=filename, mime=mime, size=len(data))
    w._sync._safe(w.send, reply, [data])


_BACKGROUND: set[asyncio.Future] = set()


def _on_heard(w: RealtimeWidget, content: dict, buffers: list) -> None:
    # The first audio of an answer played in the browser: the end of its turn's latency.
    item_id = content.get("item_id")
    if isinstance(item_id, str):
        w._turn_log.heard(item_id)


def _on_browser_error(w: RealtimeWidget, content: dict, buffers: list) -> None:
    code = str(content.get("code") or "browser_error")[:64]
    message = str(content.get("message") or "")[:500]
    w._sync.add_error("browser", code, message)


_HANDLERS: dict[str | None, Callable[[Any, dict, list], None]] = {
    "hello": _on_hello,
    "bye": _on_bye,
    "connect": _on_connect,
    "disconnect": _on_disconnect,
    "audio": _on_audio,
    "ptt_start": _on_ptt_start,
    "ptt_stop": _on_ptt_stop,
    "text": _on_text,
    "image": _on_image,
    "stop": _on_stop,
    "cancel_tools": _on_cancel_tools,
    "interrupted": _on_interrupted,
    "played": _on_played,
    "heard": _on_heard,
    "approve": _on_approve,
    "deny": _on_deny,
    "mcp_approve": _on_mcp_approve,
    "replay": _on_replay,
    "browser_error": _on_browser_error,
    "clear": _on_clear,
    "download": _on_download,
}
