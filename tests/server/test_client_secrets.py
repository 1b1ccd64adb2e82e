"""Ephemeral client secrets on the embedded server (issue 14, point 4), driven by the openai SDK.

The SDK's own ``client.realtime.client_secrets.create`` posts to the server (a real HTTP POST on
the websocket's port), its answer parses as the SDK's ``ClientSecretCreateResponse``, and the SDK
then connects with the ephemeral key. Expired, forged and misused keys get HTTP 401 with a body
saying what to do.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from realtime_widget.server import LocalRealtimeServer
from tests.helpers import UNIT
from tests.sdk_models import extras_of

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.peer

KEY = "sk-local-real-key-123456"


@pytest.fixture
async def server():
    async with LocalRealtimeServer(api_key=KEY, speed=0) as srv:
        yield srv


def _client(server, key: str = KEY):
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=server.http_base_url,
        websocket_base_url=server.base_url,
        max_retries=0,
    )


async def _refusal(url: str, key: str) -> tuple[int, dict]:
    """The HTTP status and JSON body of a refused websocket handshake."""
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}):
            pass
    response = info.value.response
    return response.status_code, json.loads(response.body)


async def test_sdk_creates_a_client_secret_and_connects_with_it(server):
    client = _client(server)
    created = await client.realtime.client_secrets.create(
        session={"type": "realtime", "model": "gpt-realtime", "instructions": "Be brief."},
        expires_after={"anchor": "created_at", "seconds": 60},
    )
    assert created.value.startswith("ek_") and KEY not in created.value
    assert extras_of(created) == []  # nothing the SDK's ClientSecretCreateResponse lacks
    assert created.session.type == "realtime" and created.session.instructions == "Be brief."
    assert created.expires_at - server.clock() == pytest.approx(60, abs=2)
    async with _client(server, created.value).realtime.connect(model="gpt-realtime") as conn:
        event = await asyncio.wait_for(conn.recv(), 10 * UNIT)
    assert event.type == "session.created"
    assert event.session.instructions == "Be brief."  # the secret's session is the start
    assert event.session.id != created.session.id  # each connection is its own session


async def test_a_secret_opens_several_sessions_until_it_expires_then_401(server):
    created = await _client(server).realtime.client_secrets.create()
    assert created.expires_at - server.clock() == pytest.approx(600, abs=2)  # OpenAI's default
    for _ in range(2):
        async with _client(server, created.value).realtime.connect(model="m") as conn:
            assert (await asyncio.wait_for(conn.recv(), 10 * UNIT)).type == "session.created"
    start = server.clock
    server.clock = lambda: start() + 601
    status, body = await _refusal(server.url, created.value)
    assert status == 401
    assert body["error"]["code"] == "client_secret_expired"
    assert "create a new one" in body["error"]["message"]
    assert server.refused["client_secret_expired"] == 1


async def test_server_refuses_a_forged_secret_with_401_saying_what_to_do(server):
    status, body = await _refusal(server.url, "ek_forged0000000000000000000000")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert "not issued by this server" in body["error"]["message"]
    assert "POST /v1/realtime/client_secrets" in body["error"]["message"]


async def test_a_server_without_a_key_still_refuses_an_expired_secret():
    async with LocalRealtimeServer(speed=0) as server:
        created = await _client(server, "anything").realtime.client_secrets.create()
        start = server.clock
        server.clock = lambda: start() + 3600
        status, body = await _refusal(server.url, created.value)
    assert status == 401 and body["error"]["code"] == "client_secret_expired"


async def test_creating_a_secret_needs_the_real_key(server):
    with pytest.raises(openai.AuthenticationError) as info:
        await _client(server, "sk-wrong-key-000000").realtime.client_secrets.create()
    assert "sk-wrong-key-000000" not in str(info.value)  # masked
    created = await _client(server).realtime.client_secrets.create()
    with pytest.raises(openai.AuthenticationError) as info:
        await _client(server, created.value).realtime.client_secrets.create()
    assert "use the server's API key" in str(info.value)


@pytest.mark.parametrize(
    ("request_body", "param"),
    [
        ({"expires_after": {"anchor": "created_at", "seconds": 5}}, "expires_after.seconds"),
        ({"expires_after": {"anchor": "created_at", "seconds": 7201}}, "expires_after.seconds"),
        ({"expires_after": {"anchor": "now", "seconds": 60}}, "expires_after.anchor"),
        ({"session": {"type": "realtime", "voice": "x"}}, "session.voice"),
    ],
)
async def test_bad_requests_get_400_naming_the_field(server, request_body, param):
    with pytest.raises(openai.BadRequestError) as info:
        await _client(server).post("/realtime/client_secrets", body=request_body, cast_to=object)
    assert info.value.body["param"] == param, info.value.body


async def test_live_secrets_are_bounded_and_expired_ones_make_room():
    async with LocalRealtimeServer(api_key=KEY, speed=0, max_client_secrets=2) as server:
        client = _client(server)
        await client.realtime.client_secrets.create(
            expires_after={"anchor": "created_at", "seconds": 10}
        )
        await client.realtime.client_secrets.create()
        with pytest.raises(openai.RateLimitError) as info:
            await client.realtime.client_secrets.create()
        assert "reuse one" in str(info.value)
        start = server.clock
        server.clock = lambda: start() + 11  # the first one expired: room for one more
        await client.realtime.client_secrets.create()
        assert len(server.client_secrets) == 2


async def test_post_to_an_unknown_path_is_404_and_websockets_still_work(server):
    with pytest.raises(openai.NotFoundError):
        await _client(server).post("/realtime/nothing", body={}, cast_to=object)
    async with _client(server).realtime.connect(model="m") as conn:
        assert (await asyncio.wait_for(conn.recv(), 10 * UNIT)).type == "session.created"


async def _raw_post(server, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10 * UNIT)
    writer.close()
    return answer


async def test_oversized_chunked_and_malformed_posts_get_clear_http_errors(server):
    too_big = b"POST /v1/realtime/client_secrets HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"
    assert (await _raw_post(server, too_big)).startswith(b"HTTP/1.1 413")
    chunked = b"POST /v1/realtime/client_secrets HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = await _raw_post(server, chunked)
    assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length" in answer
    body = b"{not json"
    bad_json = (
        b"POST /v1/realtime/client_secrets HTTP/1.1\r\nAuthorization: Bearer "
        + KEY.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    answer = await _raw_post(server, bad_json)
    assert answer.startswith(b"HTTP/1.1 400") and b"invalid_json" in answer
    deep = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError
    too_deep = (
        b"POST /v1/realtime/client_secrets HTTP/1.1\r\nAuthorization: Bearer "
        + KEY.encode()
        + b"\r\nContent-Length: "
        + str(len(deep)).encode()
        + b"\r\n\r\n"
        + deep
    )
    answer = await _raw_post(server, too_deep)
    assert answer.startswith(b"HTTP/1.1 400") and b"invalid_json" in answer
