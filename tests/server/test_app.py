"""The websocket server: handshake, dialects, pacing, cancellation, isolation, session cap."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time

import numpy as np
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from realtime_widget.audio import encode_base64
from realtime_widget.protocol.builders import user_text_item
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.app import origin_allowed
from realtime_widget.server.speech import formant_speech
from tests.helpers import UNIT
from tests.server.checked import CheckedClient, checked, types
from tests.server.driver import of_type, speech


def _user(text: str) -> dict:
    return {"type": "conversation.item.create", "item": user_text_item(text)}


def _short_voice(text: str) -> object:
    return formant_speech(text).copy()


async def test_server_url_is_loopback_v1_realtime():
    async with LocalRealtimeServer() as server:
        assert server.url.startswith("ws://127.0.0.1:") and server.url.endswith("/v1/realtime")
        assert server.port > 0


async def test_server_refuses_wrong_key_with_http_401_json_before_upgrade():
    async with LocalRealtimeServer(api_key="sk-right") as server:
        with pytest.raises(InvalidStatus) as info:
            await websockets.connect(
                server.url, additional_headers={"Authorization": "Bearer sk-wrong"}
            )
        response = info.value.response
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/json"
        body = json.loads(response.body)
        assert (
            body["error"]["code"] == "invalid_api_key"
            and "sk-wrong" not in body["error"]["message"]
        )
        with pytest.raises(InvalidStatus) as info:
            await websockets.connect(server.url)
        assert info.value.response.status_code == 401


async def test_server_debug_log_hides_right_and_wrong_keys_in_every_header_form(caplog):
    caplog.set_level(logging.DEBUG, logger="websockets.server")
    async with LocalRealtimeServer(api_key="sk-right-key") as server:
        async with websockets.connect(
            server.url, additional_headers={"api-key": "sk-right-key"}
        ) as ws:
            await asyncio.wait_for(ws.recv(), 5 * UNIT)
        for headers, subprotocols in (
            ({"Authorization": "Bearer sk-wrong-key"}, None),
            ({}, ["realtime", "openai-insecure-api-key.sk-wrong-proto"]),
        ):
            with pytest.raises(InvalidStatus):
                await websockets.connect(
                    server.url, additional_headers=headers, subprotocols=subprotocols
                )
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "api-key: [redacted]" in text.lower()  # the handshake was logged...
    for secret in ("sk-right-key", "sk-wrong-key", "sk-wrong-proto"):
        assert secret not in text  # ...without any key, right or wrong


async def test_server_answers_wrong_path_with_http_404():
    async with LocalRealtimeServer() as server:
        with pytest.raises(InvalidStatus) as info:
            await websockets.connect(server.url.replace("/v1/realtime", "/v2/other"))
        assert info.value.response.status_code == 404
        assert json.loads(info.value.response.body)["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("headers", "subprotocols"),
    [
        ({"Authorization": "Bearer sk-right"}, None),
        ({"api-key": "sk-right"}, None),
        ({}, ["realtime", "openai-insecure-api-key.sk-right"]),
    ],
)
async def test_server_accepts_key_as_bearer_azure_header_or_browser_subprotocol(
    headers, subprotocols
):
    async with LocalRealtimeServer(api_key="sk-right") as server:
        async with websockets.connect(
            server.url + "?model=gpt-realtime",
            additional_headers=headers,
            subprotocols=subprotocols,
        ) as ws:
            if subprotocols:
                assert ws.subprotocol == "realtime"
            event = checked([json.loads(await asyncio.wait_for(ws.recv(), 5 * UNIT))])[0]
            assert event["type"] == "session.created"
            assert event["session"]["model"] == "gpt-realtime"


async def test_beta_subprotocol_selects_beta_dialect():
    async with LocalRealtimeServer() as server:
        async with websockets.connect(
            server.url,
            subprotocols=["realtime", "openai-insecure-api-key.x", "openai-beta.realtime-v1"],
        ) as ws:
            event = checked([json.loads(await asyncio.wait_for(ws.recv(), 5 * UNIT))], "beta")[0]
            assert "modalities" in event["session"] and "type" not in event["session"]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_text_turn_over_websocket_in_each_dialect(dialect):
    async with LocalRealtimeServer(speed=0, synthesizer=_short_voice) as server:
        client = await CheckedClient.connect(server.url, dialect)
        await client.send(_user("hello there"))
        await client.send({"type": "response.create"})
        events = await client.until("response.done")
        assert events[-1]["response"]["status"] == "completed"
        audio_delta = "response.output_audio.delta" if dialect == "ga" else "response.audio.delta"
        assert audio_delta in types(events)
        await client.close()


async def test_audio_is_paced_at_real_time_by_speed():
    audio = formant_speech("You said: pacing check")
    seconds = len(audio) / 24000
    async with LocalRealtimeServer(speed=2.0, synthesizer=_short_voice) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(_user("pacing check"))
        await client.send({"type": "response.create"})
        await client.until("response.output_audio.delta")
        t0 = time.perf_counter()
        await client.until("response.done")
        elapsed = time.perf_counter() - t0
        # the last delta is due (total - one chunk) / speed after the first
        assert (seconds - 0.1) / 2 - 0.05 <= elapsed <= (seconds / 2) + 1.0 * UNIT
        await client.close()


async def test_cancel_mid_stream_stops_audio_and_orders_events():
    async with LocalRealtimeServer(speed=1.0, synthesizer=_short_voice) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(_user("a long answer please with many words in it to speak"))
        await client.send({"type": "response.create"})
        await client.until("response.output_audio.delta")
        await client.send({"type": "response.cancel"})
        events = await client.until("response.done")
        assert events[-1]["response"]["status_details"]["reason"] == "client_cancelled"
        after_done = types(events).index("response.output_audio.done")
        assert "response.output_audio.delta" not in types(events)[after_done:]
        rest = await client.until("rate_limits.updated")
        assert "response.output_audio.delta" not in types(rest)
        await client.close()


async def test_bad_frames_get_errors_and_other_connections_continue():
    async with LocalRealtimeServer(speed=0, synthesizer=_short_voice) as server:
        bad = await CheckedClient.connect(server.url)
        good = await CheckedClient.connect(server.url)
        await bad.ws.send(b"\x00\xff")
        await bad.error("invalid_json")
        await bad.ws.send("{{{")
        await bad.error("invalid_json")
        await bad.send({"type": "response.cancel", "event_id": "evt_c"})
        assert (await bad.error("response_cancel_not_active"))["event_id"] == "evt_c"
        await good.send(_user("hi"))
        await good.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        assert (await good.until("response.done"))[-1]["response"]["status"] == "completed"
        await bad.send(_user("still open"))
        await bad.until("conversation.item.done")
        await bad.close()
        await good.close()


async def test_server_vad_turn_over_websocket_gets_automatic_response():
    async with LocalRealtimeServer(speed=0, synthesizer=_short_voice) as server:
        client = await CheckedClient.connect(server.url)
        samples = speech("what time is it")
        for start in range(0, len(samples), 2400):
            await client.send(
                {
                    "type": "input_audio_buffer.append",
                    "audio": encode_base64(samples[start : start + 2400]),
                }
            )
        events = await client.until("response.done")
        assert types(events)[:2] == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
        ]
        assert of_type(events, "response.done")[0]["response"]["status"] == "completed"
        await client.close()


async def test_session_hits_maximum_duration_and_closes_1001_with_reason():
    async with LocalRealtimeServer(max_session_seconds=0.3 * UNIT) as server:
        client = await CheckedClient.connect(server.url)
        error = await client.error("session_expired")
        assert "maximum duration" in error["message"]
        with pytest.raises(ConnectionClosed) as info:
            await client.recv()
        assert info.value.rcvd.code == 1001
        assert info.value.rcvd.reason.startswith("Your session hit the maximum duration of")


def test_sync_with_block_runs_server_on_runtime_thread():
    from websockets.sync.client import connect

    with LocalRealtimeServer() as server:
        with connect(server.url) as ws:
            assert checked([json.loads(ws.recv(timeout=5 * UNIT))])[0]["type"] == "session.created"
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018 - stopped servers have no URL


def test_cli_prints_listening_url_and_serves():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "realtime_widget.server",
            "--port",
            "0",
            "--speed",
            "0",
            "--brain",
            "realtime_widget.server.brains:EchoBrain",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on ws://127.0.0.1:")
        from websockets.sync.client import connect

        with connect(line.split()[-1]) as ws:
            assert checked([json.loads(ws.recv(timeout=10 * UNIT))])[0]["type"] == "session.created"
    finally:
        proc.terminate()
        proc.wait(10 * UNIT)


async def test_failing_synthesizer_falls_back_to_builtin_voice():
    def broken(text: str):
        raise OSError("no audio device")

    async with LocalRealtimeServer(speed=0, synthesizer=broken) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(_user("hello"))
        await client.send({"type": "response.create"})
        events = await client.until("response.done")
        assert events[-1]["response"]["status"] == "completed"
        assert "response.output_audio.delta" in types(events)
        await client.close()


async def test_repr_is_cheap_and_never_shows_the_key():
    server = LocalRealtimeServer(api_key="sk-secret-value")
    assert "stopped" in repr(server)
    async with server:
        assert server.url in repr(server) and "sk-secret" not in repr(server)


async def test_append_over_15_mib_over_websocket_gets_error_not_a_closed_socket():
    import base64

    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url)
        audio = base64.b64encode(bytes(16 * 1024 * 1024)).decode()
        await client.send(
            {"type": "input_audio_buffer.append", "audio": audio, "event_id": "evt_big"}
        )
        error = await client.error("invalid_value")
        assert error["param"] == "audio" and error["event_id"] == "evt_big"
        await client.send(_user("still open"))
        await client.until("conversation.item.done")
        await client.close()


async def test_internal_bug_is_reported_as_server_error_and_session_continues(monkeypatch):
    from realtime_widget.server.state import SessionState

    def buggy(self, event):
        raise KeyError("injected fault")

    monkeypatch.setattr(SessionState, "_on_conversation_item_delete", buggy)
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url)
        await client.send({"type": "conversation.item.delete", "item_id": "item_x"})
        events = await client.until("error")
        assert events[-1]["error"]["type"] == "server_error"
        await client.send(_user("still here"))
        await client.until("conversation.item.done")
        await client.close()


def _long_audio_item(item_id: str, seconds: float) -> dict:
    noise = np.random.default_rng(0).standard_normal(int(24000 * seconds)) * 800
    return {
        "type": "conversation.item.create",
        "item": {
            "id": item_id,
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": encode_base64(noise.astype(np.int16))}],
        },
    }


async def _text_turn(url: str) -> list[dict]:
    """One text turn on a fresh connection; the events up to ``response.done``."""
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps(_user("are you still there?")))
        await ws.send(json.dumps({"type": "response.create"}))
        events: list[dict] = []
        while not events or events[-1]["type"] != "response.done":
            events.append(json.loads(await asyncio.wait_for(ws.recv(), 5 * UNIT)))
        return events


async def test_server_closes_a_client_that_stops_reading_with_1008_and_others_go_on(caplog):
    caplog.set_level(logging.WARNING, logger="realtime_widget.server.app")
    async with LocalRealtimeServer(speed=0, max_pending_bytes=1024 * 1024) as server:
        # max_queue=1: this client's connection stops reading the socket after one message.
        lagging = await websockets.connect(server.url, max_size=None, max_queue=1)
        await lagging.send(json.dumps(_long_audio_item("item_long", 20)))  # ~1.3 MB per answer
        retrieve = json.dumps({"type": "conversation.item.retrieve", "item_id": "item_long"})
        for _ in range(60):  # 80 MB of answers for 4 kB of requests
            await lagging.send(retrieve)
        deadline = time.monotonic() + 10 * UNIT
        while "closing a connection (1008)" not in caplog.text:
            assert time.monotonic() < deadline, "the server never gave up on the lagging client"
            await asyncio.sleep(0.05)
        assert of_type(await _text_turn(server.url), "response.done")  # another session goes on
        with pytest.raises(ConnectionClosed) as info:  # reading again, it finds the close
            while True:
                await asyncio.wait_for(lagging.recv(), 5 * UNIT)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008
        assert "not reading" in info.value.rcvd.reason
        await lagging.close()


async def test_unpaced_long_reply_to_a_reading_client_is_sent_whole_past_the_outbox_limit():
    # speed=0 builds a reply faster than any socket: the reply waits for the client to read
    # instead of counting as a client that does not read.
    async with LocalRealtimeServer(speed=0, max_pending_bytes=64 * 1024) as server:
        async with websockets.connect(server.url, max_size=None) as ws:
            await ws.send(json.dumps(_user("a fairly long sentence to echo back " * 12)))
            await ws.send(json.dumps({"type": "response.create"}))
            events: list[dict] = []
            while not events or events[-1]["type"] != "response.done":
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 10 * UNIT)))
    assert events[-1]["response"]["status"] == "completed"
    audio = sum(len(e["delta"]) for e in of_type(events, "response.output_audio.delta"))
    assert audio > 4 * 64 * 1024


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:8888", True),
        ("http://localhost:8888", True),
        ("https://LOCALHOST", True),
        ("http://[::1]:8888", True),
        ("http://127.0.0.5:80", True),
        ("https://evil.example", False),
        ("http://127.0.0.1.evil.example", False),
        ("http://localhost.evil.example:8888", False),
        ("http://evil.example@localhost", False),
        ("null", False),
        ("file://", False),
        ("chrome-extension://abc", False),
    ],
)
def test_origin_allowed_accepts_loopback_pages_only(origin, allowed):
    assert origin_allowed(origin) is allowed


def test_origin_allowed_accepts_no_origin_listed_origins_and_star():
    assert origin_allowed(None)
    assert origin_allowed("https://hub.example.org/", frozenset({"https://hub.example.org"}))
    assert not origin_allowed("https://other.example.org", frozenset({"https://hub.example.org"}))
    assert origin_allowed("https://evil.example", frozenset({"*"}))


async def _handshake_status(url: str, origin: str | None, **kwargs) -> int | InvalidStatus:
    try:
        async with websockets.connect(url, origin=origin, **kwargs) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5 * UNIT))["type"] == (
                "session.created"
            )
            return 101
    except InvalidStatus as exc:
        return exc


async def test_server_refuses_a_web_page_origin_with_http_403_json_even_with_the_right_key():
    async with LocalRealtimeServer(api_key="sk-right") as server:
        key = {"additional_headers": {"Authorization": "Bearer sk-right"}}
        for origin in (None, "http://127.0.0.1:8888", "http://localhost:8888"):
            assert await _handshake_status(server.url, origin, **key) == 101, origin
        refused = await _handshake_status(server.url, "https://evil.example", **key)
        assert isinstance(refused, InvalidStatus)
        response = refused.response
        assert response.status_code == 403
        assert response.headers["Content-Type"] == "application/json"
        error = json.loads(response.body)["error"]
        assert error["code"] == "origin_not_allowed" and error["type"] == "invalid_request_error"
        assert "https://evil.example" in error["message"]
        assert "sk-right" not in response.body.decode()


async def test_server_accepts_the_origins_it_is_given():
    allowed = ["https://hub.example.org"]
    async with LocalRealtimeServer(allowed_origins=allowed) as server:
        assert await _handshake_status(server.url, "https://hub.example.org") == 101
        assert await _handshake_status(server.url, "http://localhost:8888") == 101
        refused = await _handshake_status(server.url, "https://other.example.org")
        assert isinstance(refused, InvalidStatus) and refused.response.status_code == 403


def test_cli_takes_repeated_allowed_origins():
    from realtime_widget.server.__main__ import _parser

    args = _parser().parse_args(["--allowed-origin", "https://a.example", "--allowed-origin", "*"])
    assert args.allowed_origin == ["https://a.example", "*"]
    assert _parser().parse_args([]).allowed_origin == []


async def test_server_takes_the_bearer_key_beside_a_urls_basic_auth_and_counts_refusals():
    # ws://user:password@host/ adds "Authorization: Basic ..." beside the client's Bearer key:
    # the server used `headers.get`, which raises on a repeated header (HTTP 500, no session).
    async with LocalRealtimeServer(api_key="sk-right") as server:
        both = [("Authorization", "Basic bWU6cGFzcw=="), ("Authorization", "Bearer sk-right")]
        assert await _handshake_status(server.url, None, additional_headers=both) == 101
        wrong = [("Authorization", "Basic bWU6cGFzcw=="), ("Authorization", "Bearer sk-wrong")]
        refused = await _handshake_status(server.url, None, additional_headers=wrong)
        assert isinstance(refused, InvalidStatus) and refused.response.status_code == 401
        page = await _handshake_status(server.url, "https://evil.example", additional_headers=both)
        assert isinstance(page, InvalidStatus) and page.response.status_code == 403
        assert server.refused == {"invalid_api_key": 1, "origin_not_allowed": 1}
