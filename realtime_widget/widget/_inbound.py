"""Browser -> kernel half of the widget: one handler per custom message type.

The widget's comm handler only hands each message to the runtime loop and returns (DESIGN §3);
`Inbound.handle` then runs there. Message shapes: docs/widget-protocol.md.

`Inbound` is a collaborator of the widget, readable on its own: it is handed what it touches
(the client, the `WidgetSync`, the `TurnLog`, the caption session and the widget's send,
connect and disconnect) and owns the one piece of state that is its own, the push-to-talk
turn's sample count. It holds nothing that reaches the widget strongly: the sync keeps it (as
its ``on_interrupt_timeout``) and the runtime keeps the sync, so a widget nobody holds can
still be collected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.images import ImageError
from realtime_widget.widget._audio import item_audio
from realtime_widget.widget._captions import caption_download
from realtime_widget.widget._clear import new_conversation
from realtime_widget.widget._download import download_payload
from realtime_widget.widget._sync import WidgetSync
from realtime_widget.widget._turns import TurnLog

__all__ = ["MIN_TURN_SAMPLES", "Inbound"]

logger = logging.getLogger("realtime_widget.widget")

MIN_TURN_SAMPLES = 2400
"""100 ms at 24 kHz: the server refuses shorter commits, so a shorter push-to-talk turn is
refused here with an alert rather than sent."""

_CLEAR_TIMEOUT_S = 10.0  # the "New conversation" button waits this long for the deletions

_BACKGROUND: set[asyncio.Future] = set()
"""Running "New conversation" tasks, held until done: the loop keeps only weak references."""


class Inbound:
    """Handles the browser's messages on the runtime loop; never raises into it.

    Args:
        client: the bound `RealtimeClient` (audio in, responses, truncates, tools, approvals).
        sync: the widget's `WidgetSync` (views attached, played counts, playback, alerts,
            replies to the browser's requests).
        turn_log: the widget's `TurnLog` (the first audio of an answer heard in the browser).
        captioner: the transcribe / translate modes' session (the microphone feeds it, downloads
            come from it), or None in a conversation.
        send: ``send(content, buffers)``, the widget's custom-message sender: replies to the
            browser's requests (a download's bytes, a replay's audio) go at once, outside the
            coalesced frames.
        connect: starts connecting in the background (the Connect button).
        disconnect: starts disconnecting in the background.
    """

    def __init__(
        self,
        client: Any,
        sync: WidgetSync,
        turn_log: TurnLog,
        captioner: Any,
        send: Callable[[dict[str, Any], list[bytes]], None],
        connect: Callable[[], None],
        disconnect: Callable[[], None],
    ) -> None:
        self.client = client
        self.sync = sync
        self.turn_log = turn_log
        self.captioner = captioner
        self._send = send
        self._connect = connect
        self._disconnect = disconnect
        self.turn_samples = 0
        """Microphone samples appended since the push-to-talk turn began."""

    def handle(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """Run the handler for one browser message (on the runtime loop); never raises."""
        kind = content.get("type") if isinstance(content, dict) else None
        handler = _HANDLERS.get(kind)
        if handler is None:
            logger.info("= ignored browser message %r", kind)
            return
        try:
            handler(self, content, buffers)
        except Exception as exc:  # a bad message must not kill the runtime loop
            logger.exception("= browser message %r failed", kind)
            self.sync.add_error("kernel", f"{kind}_failed", f"{kind}: {exc}")

    def cancel_everything(self) -> None:
        """``w.cancel()``: stop playback in every view, the active response and running tools."""
        # The views stop their players and answer `interrupted` with what was heard; the
        # truncate is sent from that answer (`_on_interrupted`), as for a server-VAD interruption.
        self.sync.clear_playback(notify_browser=True)
        if self.client.is_connected and self.client.response_active:
            self.client.cancel_response()
        self.client.cancel_tools()

    def truncate_at_last_reports(self) -> None:
        """No view answered a `clear` frame: truncate at the last played counts reported."""
        cut = []
        for key, samples in self.sync.played.items():
            item_id, _, index = key.rpartition(":")
            if 0 < samples < self.sync.outbox.forwarded(item_id, int(index)):
                cut.append((item_id, int(index), samples))
        self._truncate(cut, cancel=False)

    def _reply(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        try:
            self._send(content, buffers)
        except Exception:  # a dead comm must not kill the runtime loop
            logger.exception("= sending to the browser failed")

    # ------------------------------------------------------------------ played audio
    def _apply_played(self, reports: Any) -> list[tuple[str, int, int]]:
        """Record played counts; returns the parts cut mid-way (played < forwarded)."""
        cut = []
        for report in reports or []:
            item_id = str(report.get("item_id", ""))
            index = int(report.get("content_index", 0))
            samples = int(report.get("samples", 0))
            key = f"{item_id}:{index}"
            if samples < self.sync.played.get(key, 0):
                continue  # reports are cumulative; an older one arrived late
            self.sync.played[key] = samples
            if self.client.is_connected:
                self.client.report_played(item_id, index, samples)
            if 0 < samples < self.sync.outbox.forwarded(item_id, index):
                cut.append((item_id, index, samples))
        return cut

    def _truncate(self, cut: list[tuple[str, int, int]], cancel: bool) -> None:
        """Truncate each cut part at what was played; cancel the response when asked and active."""
        client = self.client
        if not client.is_connected:
            return
        for item_id, _index, samples in cut:
            # The client cuts at min(played, received), skips useless truncates and sends
            # response.cancel only if a response is active (issue 4).
            client.cancel_response(item_id, samples)
        if cancel and not cut and client.response_active:
            client.cancel_response()

    # ------------------------------------------------------------------ handlers (wire names)
    def _on_hello(self, content: dict, buffers: list) -> None:
        self.sync.views_attached.add(str(content.get("view")))
        self.sync.refresh_snapshot()
        self.turn_log.refresh()

    def _on_bye(self, content: dict, buffers: list) -> None:
        self.sync.views_attached.discard(str(content.get("view")))

    def _on_connect(self, content: dict, buffers: list) -> None:
        self._connect()

    def _on_disconnect(self, content: dict, buffers: list) -> None:
        self._disconnect()

    def _on_audio(self, content: dict, buffers: list) -> None:
        captioner = self.captioner
        if captioner is not None:  # transcribe / translate modes: the mic feeds their session
            if buffers and (captioner.is_connected or captioner.is_reconnecting):
                captioner.append_input_audio(np.frombuffer(buffers[0], dtype="<i2"))
            return
        if not buffers or not self.client.is_connected:
            return  # mic audio while disconnected has nowhere to go
        samples = np.frombuffer(buffers[0], dtype="<i2")
        self.turn_samples += len(samples)
        self.client.append_input_audio(samples)

    def _on_interrupted(self, content: dict, buffers: list) -> None:
        # The answer to a `clear` frame: server VAD interrupted; the server cancelled the
        # response itself (interrupt_response), the truncate is ours to send, at what was
        # really heard.
        self.sync.interrupt_answered()
        self._truncate(self._apply_played(content.get("played")), cancel=False)

    def _on_stop(self, content: dict, buffers: list) -> None:
        # The browser has already emptied its player; drop what is still on its way to it.
        self.sync.clear_playback(notify_browser=False)
        self._truncate(self._apply_played(content.get("played")), cancel=True)

    def _on_ptt_start(self, content: dict, buffers: list) -> None:
        self._on_stop(content, buffers)
        self.turn_samples = 0

    def _on_ptt_stop(self, content: dict, buffers: list) -> None:
        if not self.client.is_connected:
            return
        if self.turn_samples < MIN_TURN_SAMPLES:
            self.sync.add_error(
                "kernel",
                "input_too_short",
                "Push-to-talk captured under 100 ms of audio: hold the microphone button while "
                "speaking (or click it once to start and again to stop).",
            )
            return
        self.turn_samples = 0
        self.client.create_response()  # commits the turn's audio first (manual turns)

    def _on_cancel_tools(self, content: dict, buffers: list) -> None:
        # The Stop button (after its `stop`): running tools too (issue 15). Kept apart from
        # `stop`, which Disconnect and push-to-talk also send: talking again must not kill a tool.
        self.client.cancel_tools()

    def _on_played(self, content: dict, buffers: list) -> None:
        self._apply_played(content.get("played"))

    def _on_heard(self, content: dict, buffers: list) -> None:
        # The first audio of an answer played in the browser: the end of its turn's latency.
        item_id = content.get("item_id")
        if isinstance(item_id, str):
            self.turn_log.heard(item_id)

    def _on_text(self, content: dict, buffers: list) -> None:
        text = str(content.get("text") or "").strip()
        if not text:
            return
        client = self.client
        if not (client.is_connected or client.is_reconnecting):  # reconnecting: the client holds it
            self._not_connected("send")
            return
        client.send_user_message_content([{"type": "input_text", "text": text}])

    def _on_image(self, content: dict, buffers: list) -> None:
        # A pasted or dropped image: its bytes arrive as a binary buffer (no base64 on the comm).
        if not (self.client.is_connected or self.client.is_reconnecting):
            self._not_connected("paste")
            return
        if not buffers:
            self.sync.add_error("kernel", "invalid_image", "The image arrived without its bytes.")
            return
        text = str(content.get("text") or "").strip() or None
        name = str(content.get("name") or "the image")[:100]
        try:
            self.client.send_image(buffers[0], text=text)
        except ImageError as exc:  # the browser checks too; this is the authoritative check
            self.sync.add_error("kernel", "invalid_image", f"{name}: {exc}")

    def _not_connected(self, then: str) -> None:
        message = f"Not connected: press Connect, then {then}."
        self.sync.add_error("kernel", "not_connected", message)

    def _on_approve(self, content: dict, buffers: list) -> None:
        self.client.tools.approve(str(content.get("call_id", "")))

    def _on_deny(self, content: dict, buffers: list) -> None:
        self.client.tools.deny(str(content.get("call_id", "")))

    def _on_mcp_approve(self, content: dict, buffers: list) -> None:
        request_id = str(content.get("request_id", ""))
        try:
            self.client.approve_mcp(request_id, bool(content.get("approve")))
        except (ValueError, RuntimeError) as exc:  # answered already, or not connected: say so
            self.sync.add_error("kernel", "mcp_approval_failed", str(exc))

    def _on_replay(self, content: dict, buffers: list) -> None:
        item_id = str(content.get("item_id", ""))
        samples = item_audio(self.client, item_id)
        if samples is None or not len(samples):
            self.sync.add_error("kernel", "no_audio", f"Item {item_id} has no audio to replay.")
            return
        message = {
            "type": "replay_audio",
            "request_id": content.get("request_id"),
            "item_id": item_id,
            "content_index": 0,
        }
        self._reply(message, [np.asarray(samples, dtype="<i2").tobytes()])

    def _on_clear(self, content: dict, buffers: list) -> None:
        # "New conversation": runs as a task (it waits for the server's confirmations); a
        # failure shows as an alert, the conversation then still shows what was not deleted.
        async def run() -> None:
            try:
                await new_conversation(
                    self.client, self.sync, self.turn_log, self.captioner, _CLEAR_TIMEOUT_S
                )
            except Exception as exc:
                self.sync.add_error("kernel", "clear_failed", str(exc))

        task = asyncio.ensure_future(run())
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    def _on_download(self, content: dict, buffers: list) -> None:
        # The file is built here (the kernel holds the audio); the browser saves the bytes.
        reply: dict[str, Any] = {"type": "download", "request_id": content.get("request_id")}
        try:
            fmt = str(content.get("format", ""))
            if self.captioner is not None:  # caption modes: captions, translated audio
                filename, mime, data = caption_download(self.captioner, fmt)
            else:
                filename, mime, data = download_payload(self.client, fmt)
        except ValueError as exc:  # no audio yet, or an unknown format: the browser shows why
            reply["error"] = str(exc)
            self.sync.add_error("kernel", "download_failed", f"Download: {exc}")
            self._reply(reply, [])
            return
        reply.update(filename=filename, mime=mime, size=len(data))
        self._reply(reply, [data])

    def _on_browser_error(self, content: dict, buffers: list) -> None:
        code = str(content.get("code") or "browser_error")[:64]
        message = str(content.get("message") or "")[:500]
        self.sync.add_error("browser", code, message)


# Browser message type -> handler (docs/widget-protocol.md); anything else is logged and skipped.
_HANDLERS: dict[str | None, Callable[[Inbound, dict, list], None]] = {
    "hello": Inbound._on_hello,
    "bye": Inbound._on_bye,
    "connect": Inbound._on_connect,
    "disconnect": Inbound._on_disconnect,
    "audio": Inbound._on_audio,
    "ptt_start": Inbound._on_ptt_start,
    "ptt_stop": Inbound._on_ptt_stop,
    "text": Inbound._on_text,
    "image": Inbound._on_image,
    "stop": Inbound._on_stop,
    "cancel_tools": Inbound._on_cancel_tools,
    "interrupted": Inbound._on_interrupted,
    "played": Inbound._on_played,
    "heard": Inbound._on_heard,
    "approve": Inbound._on_approve,
    "deny": Inbound._on_deny,
    "mcp_approve": Inbound._on_mcp_approve,
    "replay": Inbound._on_replay,
    "browser_error": Inbound._on_browser_error,
    "clear": Inbound._on_clear,
    "download": Inbound._on_download,
}
