"""RealtimeAPI over real websockets on 127.0.0.1, against a small scripted server."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest

from realtime_widget.api import DEFAULT_MODEL, RealtimeAPI, RealtimeConnectionError
from realtime_widget.runtime import get_runtime
from tests.api._scripted_server import ScriptedServer
from tests.helpers import UNIT

KEY = "sk-test-SECRETKEY0123456789abcdef"


class Recorder:
    """Collects dispatched events (called on the runtime thread) and waits for them."""

    def __init__(self, api: RealtimeAPI, *names: str) -> None:
        self.events: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        for name in names:
            api.on(name, lambda event, name=name: self._add(name, event))

    def _add(self, name: str, event: dict) -> None:
        with self._lock:
            self.events.append((name, event))

    def of(self, name: str) -> list[dict]:
        with self._lock:
            return [e for n, e in self.events if n == name]

    async def wait(self, name: str, count: int = 1, timeout: float = 5 * UNIT) -> list[dict]:
        async def poll() -> list[dict]:
            while len(self.of(name)) < count:
                await asyncio.sleep(0.005)
            return self.of(name)

        return await asyncio.wait_for(poll(), timeout)


async def connected(server: ScriptedServer, **options) -> RealtimeAPI:
    api = RealtimeAPI(url=server.url, api_key=KEY, **options)
    await api.connect_async()
    return api


async def test_api_sends_bearer_key_and_model_in_ga_without_beta_header():
    async with ScriptedServer() as server:
        api = await connected(server, model="gpt-realtime-2.1-mini")
        conn = await server.connection(5 * UNIT)
        assert api.is_connected
        assert conn.headers["authorization"] == f"Bearer {KEY}"
        assert "openai-beta" not in conn.headers
        assert conn.path == "/v1/realtime?model=gpt-realtime-2.1-mini"
        await api.disconnect_async()
        assert not api.is_connected


async def test_api_beta_dialect_adds_header_and_sends_beta_shapes():
    async with ScriptedServer() as server:
        api = await connected(server, dialect="beta")
        conn = await server.connection(5 * UNIT)
        assert conn.headers["openai-beta"] == "realtime=v1"
        item = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "hi"}],
        }
        sent = api.send("conversation.item.create", {"item": item})
        wire = await conn.next_event(5 * UNIT)
        assert wire["event_id"] == sent["event_id"]
        assert wire["item"]["content"][0]["type"] == "text"
        assert sent["item"]["content"][0]["type"] == "output_text"  # dispatched as built (GA)
        await api.disconnect_async()


async def test_api_azure_endpoint_uses_deployment_path_and_api_key_header():
    async with ScriptedServer() as server:
        endpoint = server.url.replace("ws://", "http://").split("/v1/")[0]
        api = RealtimeAPI(azure_endpoint=endpoint, azure_deployment="my-deploy", api_key=KEY)
        assert api.url.startswith("ws://")
        await api.connect_async()
        conn = await server.connection(5 * UNIT)
        assert conn.path == "/openai/v1/realtime?model=my-deploy"
        assert conn.headers["api-key"] == KEY
        assert "authorization" not in conn.headers
        await api.disconnect_async()


def test_api_runtime_is_the_one_it_was_given_or_the_process_wide_one():
    from realtime_widget.runtime import Runtime

    assert RealtimeAPI().runtime is get_runtime()
    own = Runtime()
    try:
        assert RealtimeAPI(runtime=own).runtime is own
    finally:
        own.stop()


def test_api_maps_https_urls_to_wss_and_keeps_a_given_model():
    api = RealtimeAPI(url="https://example.test/v1/realtime?model=custom", api_key=KEY)
    assert api.url == "wss://example.test/v1/realtime?model=custom"
    assert not api.is_azure
    assert RealtimeAPI(url="https://x.openai.azure.com/openai/v1/realtime").is_azure


def test_api_adds_no_model_to_a_call_id_url():
    # The side channel of a WebRTC/SIP call (issue 14): the call has its model already, and
    # OpenAI refuses a model beside call_id.
    api = RealtimeAPI(url="wss://api.openai.com/v1/realtime?call_id=rtc_123", api_key=KEY)
    assert api.url == "wss://api.openai.com/v1/realtime?call_id=rtc_123"
    api = RealtimeAPI(url="https://example.test/v1/realtime?call_id=rtc_9", model="m", api_key=KEY)
    assert api.url == "wss://example.test/v1/realtime?call_id=rtc_9"


def test_api_reads_key_from_environment_and_hides_it_from_repr(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    api = RealtimeAPI()
    assert api.has_api_key
    assert KEY not in repr(api)
    assert KEY not in str(vars(api).get("url"))
    assert api.url == f"wss://api.openai.com/v1/realtime?model={DEFAULT_MODEL}"


@pytest.mark.parametrize(
    ("status", "hint"),
    [(401, "OPENAI_API_KEY"), (403, "access"), (404, "unknown model"), (429, "quota")],
)
async def test_api_refused_handshake_raises_error_saying_what_to_fix(status, hint):
    body = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}."}}).encode()
    async with ScriptedServer(refuse=status, body=body) as server:
        api = RealtimeAPI(url=server.url, api_key=KEY)
        with pytest.raises(RealtimeConnectionError) as info:
            await api.connect_async()
    message = str(info.value)
    assert info.value.status == status
    assert hint in message
    assert f"HTTP {status}" in message
    assert KEY not in message
    assert "sk-test" not in message  # partial keys from the server's message are redacted too
    assert not api.is_connected


async def test_api_unreachable_server_raises_error_naming_the_url():
    async with ScriptedServer() as server:
        url = server.url
    api = RealtimeAPI(url=url, api_key=KEY, open_timeout=2 * UNIT)
    with pytest.raises(RealtimeConnectionError, match="server is running"):
        await api.connect_async()


async def test_api_normalises_beta_server_events_to_ga_names():
    async with ScriptedServer(greet=False) as server:
        api = await connected(server)
        seen = Recorder(api, "server.*", "server.response.output_audio.delta")
        conn = await server.connection(5 * UNIT)
        await conn.send({"type": "response.audio.delta", "item_id": "i", "delta": "AAAA"})
        [event] = await seen.wait("server.response.output_audio.delta")
        assert event["type"] == "response.output_audio.delta"
        assert [e["type"] for e in seen.of("server.*")] == ["response.output_audio.delta"]
        await api.disconnect_async()


async def test_api_in_beta_also_fires_the_wire_name_listeners_with_the_event_as_received():
    async with ScriptedServer(greet=False) as server:
        api = await connected(server, dialect="beta")
        names = ("server.*", "server.response.audio.delta", "response.audio.delta")
        seen = Recorder(api, *names, "server.response.output_audio.delta")
        conn = await server.connection(5 * UNIT)
        wire = {"type": "response.audio.delta", "item_id": "i", "delta": "AAAA"}
        await conn.send(wire)
        await conn.send({"type": "response.done", "response": {"id": "r1"}})
        await seen.wait("server.*", 2)
        assert seen.of("server.response.audio.delta") == [wire]  # the seed's listener
        assert seen.of("response.audio.delta") == [wire]
        [ga] = seen.of("server.response.output_audio.delta")
        assert ga == {**wire, "type": "response.output_audio.delta"}
        assert [e["type"] for e in seen.of("server.*")] == [  # once each, in GA
            "response.output_audio.delta",
            "response.done",
        ]
        await api.disconnect_async()


async def test_api_dispatches_unknown_events_untouched():
    async with ScriptedServer(greet=False) as server:
        api = await connected(server)
        seen = Recorder(api, "server.*")
        conn = await server.connection(5 * UNIT)
        novel = {"type": "brand_new.thing", "payload": {"x": [1, 2]}}
        await conn.send(novel)
        [event] = await seen.wait("server.*")
        assert event == novel
        await api.disconnect_async()


async def test_api_survives_malformed_and_binary_frames_and_reports_them():
    async with ScriptedServer(greet=False) as server:
        api = await connected(server)
        seen = Recorder(api, "error", "server.*")
        conn = await server.connection(5 * UNIT)
        await conn.send('{"type": "response.done", "resp')
        await conn.send(b"\x00\x01binary")
        await conn.send("[1, 2, 3]")
        await conn.send({"type": "response.done", "response": {"id": "r1"}})
        await seen.wait("server.*")
        errors = seen.of("error")
        assert [e["error"]["code"] for e in errors] == [
            "malformed_frame",
            "binary_frame",
            "malformed_frame",
        ]
        assert all(e["source"] == "local" for e in errors)
        assert api.is_connected
        await api.disconnect_async()


async def test_api_raising_handler_does_not_stop_the_receive_loop():
    async with ScriptedServer(greet=False) as server:
        api = await connected(server)

        def broken(event):
            raise ValueError("boom")

        api.on("server.ping.test", broken)
        seen = Recorder(api, "server.*")
        conn = await server.connection(5 * UNIT)
        await conn.send({"type": "ping.test"})
        await conn.send({"type": "pong.test"})
        events = await seen.wait("server.*", 2)
        assert [e["type"] for e in events] == ["ping.test", "pong.test"]
        await api.disconnect_async()


async def test_api_close_event_reports_server_code_as_error_and_own_close_as_clean():
    async with ScriptedServer() as server:
        api = await connected(server)
        seen = Recorder(api, "close")
        conn = await server.connection(5 * UNIT)
        await conn.ws.close(1001, "session expired")
        [event] = await seen.wait("close")
        assert (event["code"], event["reason"], event["error"]) == (1001, "session expired", True)
        assert not api.is_connected

        await api.connect_async()
        seen2 = Recorder(api, "close")
        await api.disconnect_async()
        [event] = await seen2.wait("close")
        assert event["error"] is False


async def test_api_sends_events_in_order_from_many_threads_and_dispatches_them():
    async with ScriptedServer() as server:
        api = await connected(server)
        seen = Recorder(api, "client.*")
        conn = await server.connection(5 * UNIT)

        def burst(tag: str) -> None:
            for i in range(50):
                api.send("conversation.item.retrieve", {"item_id": f"{tag}{i}"})

        threads = [threading.Thread(target=burst, args=(t,)) for t in "ab"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        async def all_received() -> None:
            while len(conn.received) < 100:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(all_received(), 5 * UNIT)
        for tag in "ab":
            ids = [e["item_id"] for e in conn.received if e["item_id"].startswith(tag)]
            assert ids == [f"{tag}{i}" for i in range(50)]
        assert len(await seen.wait("client.*", 100)) == 100
        await api.disconnect_async()


async def test_api_send_refuses_when_disconnected_or_given_non_dict():
    api = RealtimeAPI(url="ws://127.0.0.1:9/v1/realtime", api_key=KEY)
    with pytest.raises(RuntimeError, match="connect"):
        api.send("response.create")
    async with ScriptedServer() as server:
        api = await connected(server)
        with pytest.raises(TypeError):
            api.send("response.create", ["not", "a", "dict"])  # type: ignore[arg-type]
        await api.disconnect_async()


async def test_api_blocking_connect_on_runtime_thread_tells_to_await_twin():
    api = RealtimeAPI(url="ws://127.0.0.1:9/v1/realtime")

    async def on_runtime() -> str:
        try:
            api.connect()
        except RuntimeError as exc:
            return str(exc)
        return ""

    message = await get_runtime().run_async(on_runtime())
    assert "connect_async" in message


def test_api_blocking_connect_and_disconnect_from_a_plain_thread():
    runtime = get_runtime()

    async def start() -> ScriptedServer:
        return await ScriptedServer().__aenter__()

    server = runtime.run(start(), 5 * UNIT)
    try:
        api = RealtimeAPI(url=server.url, api_key=KEY)
        api.connect(timeout=5 * UNIT)
        assert api.is_connected
        api.disconnect(timeout=5 * UNIT)
        assert not api.is_connected
    finally:
        runtime.run(server.__aexit__(None, None, None), 5 * UNIT)


async def test_api_never_logs_the_key_and_redacts_audio(caplog):
    caplog.set_level(logging.DEBUG)
    async with ScriptedServer(greet=False) as server:
        api = await connected(server, debug=True)
        conn = await server.connection(5 * UNIT)
        seen = Recorder(api, "server.*")
        api.send("input_audio_buffer.append", {"audio": "QUJD" * 1000})
        part = {"type": "input_audio", "audio": "QUJD" * 10}
        item = {"type": "message", "role": "user", "content": [part]}
        api.send("conversation.item.create", {"item": item})
        await conn.next_event(5 * UNIT)
        await conn.next_event(5 * UNIT)
        await conn.send({"type": "response.output_audio.delta", "item_id": "i", "delta": "AAAA"})
        await seen.wait("server.*")
        await api.disconnect_async()
    ours = [r for r in caplog.records if r.name.startswith("realtime_widget")]
    text = "\n".join(record.getMessage() for record in ours)
    assert KEY not in text
    assert "Authorization" in text or "authorization" in text.lower()  # headers were logged...
    assert "[redacted]" in text  # ...with the key replaced
    assert "QUJD" not in text
    assert "> " in text and "< " in text
    assert "<3000 bytes of audio>" in text


async def test_api_azure_form_completes_a_handshake_with_the_embedded_server():
    from realtime_widget.server import LocalRealtimeServer

    async with LocalRealtimeServer(api_key=KEY, speed=0) as server:
        endpoint = server.url.replace("ws://", "http://").split("/v1/")[0]
        api = RealtimeAPI(azure_endpoint=endpoint, azure_deployment="my-deploy", api_key=KEY)
        created = asyncio.ensure_future(api.wait_for_next("server.session.created", 5 * UNIT))
        await api.connect_async()
        assert (await created)["type"] == "session.created"
        await api.disconnect_async()


URL_KEY = "0123456789abcdefURLKEYfedcba9876543210"


async def test_api_hides_a_key_carried_in_the_url_from_repr_errors_and_logs(caplog):
    # Azure accepts ?api-key=; a user:password@ URL carries one too. Neither may show.
    from realtime_widget.client import RealtimeClient

    caplog.set_level(logging.DEBUG)
    async with ScriptedServer(refuse=401) as server:
        url = server.url.replace("ws://", "ws://me:PASSWORD-SECRET@") + f"?api-key={URL_KEY}"
        api = RealtimeAPI(url=url, debug=True)
        with pytest.raises(RealtimeConnectionError) as refused:
            await api.connect_async()
    async with ScriptedServer() as gone:
        closed_url = gone.url + f"?api-key={URL_KEY}"
    with pytest.raises(RealtimeConnectionError) as unreachable:
        await RealtimeAPI(url=closed_url, open_timeout=2 * UNIT).connect_async()
    client = RealtimeClient(url=url)
    shown = [repr(api), repr(client), repr(client.api), str(refused.value), str(unreachable.value)]
    shown += [r.getMessage() for r in caplog.records if r.name.startswith("realtime_widget")]
    assert any("GET /" in line for line in shown)  # the request line was logged...
    for line in shown:  # ...and nothing shows either secret
        assert URL_KEY not in line and "PASSWORD-SECRET" not in line, line
    assert "api-key=[redacted]" in repr(api) and "me:[redacted]@" in repr(api)
    assert api.url.startswith(url)  # the real URL is still what connects
