"""``realtime_widget.create_client_secret`` against the real embedded server (issue 14, point 4)."""

from __future__ import annotations

import asyncio

import pytest
import websockets

import realtime_widget
from realtime_widget import ClientSecretError, create_client_secret, create_client_secret_async
from realtime_widget.client_secrets import rest_base_url
from realtime_widget.server import LocalRealtimeServer
from tests.helpers import UNIT

KEY = "sk-local-real-key-abcdef"


@pytest.fixture
def server():
    with LocalRealtimeServer(api_key=KEY, speed=0) as srv:
        yield srv


def test_create_client_secret_returns_a_key_that_opens_a_session(server):
    secret = create_client_secret(
        KEY,
        session={"type": "realtime", "instructions": "Speak French."},
        expires_after=120,
        base_url=server.http_base_url,
    )
    assert secret.value.startswith("ek_")
    assert 115 <= secret.expires_in <= 121
    assert secret.session_type == "realtime"
    for text in (repr(secret), str(secret)):
        assert secret.value not in text and KEY not in text

    async def connect() -> dict:
        headers = {"Authorization": f"Bearer {secret.value}"}
        async with websockets.connect(server.url, additional_headers=headers) as ws:
            return __import__("json").loads(await asyncio.wait_for(ws.recv(), 10 * UNIT))

    created = asyncio.run(connect())
    assert created["session"]["instructions"] == "Speak French."


def test_create_client_secret_takes_the_websocket_url_too(server):
    assert rest_base_url(server.url) == server.http_base_url
    assert rest_base_url("wss://api.openai.com/v1/realtime") == "https://api.openai.com/v1"
    assert create_client_secret(KEY, base_url=server.url).value.startswith("ek_")


def test_wrong_key_raises_an_error_without_the_key(server):
    with pytest.raises(ClientSecretError) as info:
        create_client_secret("sk-wrong-000000000000", base_url=server.http_base_url)
    assert info.value.status == 401 and info.value.code == "invalid_api_key"
    assert "sk-wrong-000000000000" not in str(info.value)


def test_a_bad_lifetime_names_the_field(server):
    with pytest.raises(ClientSecretError) as info:
        create_client_secret(KEY, expires_after=5, base_url=server.http_base_url)
    assert info.value.status == 400 and info.value.param == "expires_after.seconds"


def test_no_key_and_an_unreachable_server_say_what_to_do(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        create_client_secret()
    with pytest.raises(ClientSecretError) as info:
        create_client_secret(KEY, base_url="http://127.0.0.1:9/v1", timeout=5)
    assert info.value.status is None and KEY not in str(info.value)
    with pytest.raises(ValueError, match="needs a session"):
        create_client_secret(KEY, translation=True)


async def test_async_twin_and_package_exports(server):
    secret = await create_client_secret_async(KEY, base_url=server.http_base_url)
    assert secret.value.startswith("ek_")
    assert realtime_widget.create_client_secret is create_client_secret
    assert "create_client_secret" in realtime_widget.__all__
