"""The pure store of client secrets (``server/_secrets.py``, issue 14 point 4)."""

from __future__ import annotations

import pytest

from realtime_widget.server._checks import ClientError
from realtime_widget.server._secrets import ClientSecrets, expiry_seconds, looks_like_secret


def _store(max_secrets: int = 4) -> ClientSecrets:
    numbers = iter(range(1000))
    return ClientSecrets(max_secrets, new_value=lambda: f"ek_{next(numbers)}")


def test_store_issues_secrets_that_expire():
    store = _store()
    secret = store.issue("realtime", {"type": "realtime"}, 60, now=1000.0)
    assert secret.value == "ek_0" and secret.expires_at == 1060
    assert store.check("ek_0", "realtime", 1059.0) is secret
    with pytest.raises(ClientError) as info:
        store.check("ek_0", "realtime", 1061.0)
    assert info.value.code == "client_secret_expired" and "1 seconds ago" in info.value.message
    assert "ek_0" not in repr(secret) and "ek_0" not in repr(store)


def test_store_refuses_unknown_secrets_and_the_other_kind():
    store = _store()
    store.issue("translation", {}, 60, now=0.0)
    with pytest.raises(ClientError, match="not issued by this server"):
        store.check("ek_nope", "realtime", 1.0)
    with pytest.raises(ClientError, match="/v1/realtime/translations"):
        store.check("ek_0", "realtime", 1.0)


def test_store_is_bounded_and_forgets_expired_secrets_first():
    store = _store(max_secrets=2)
    store.issue("realtime", {}, 10, now=0.0)
    store.issue("realtime", {}, 100, now=0.0)
    with pytest.raises(ClientError) as info:
        store.issue("realtime", {}, 10, now=5.0)
    assert info.value.code == "too_many_client_secrets"
    store.issue("realtime", {}, 10, now=20.0)  # ek_0 expired: forgotten to make room
    assert len(store) == 2 and store.get("ek_0") is None and store.live_count(20.0) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 600), ({"anchor": "created_at", "seconds": 10}, 10), ({"seconds": 7200}, 7200)],
)
def test_expiry_defaults_to_ten_minutes_within_openais_range(value, expected):
    assert expiry_seconds(value) == expected


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ({"seconds": 9}, "expires_after.seconds"),
        ({"seconds": 7201}, "expires_after.seconds"),
        ({"seconds": "60"}, "expires_after.seconds"),
        ({"anchor": "now"}, "expires_after.anchor"),
        ({"ttl": 5}, "expires_after.ttl"),
    ],
)
def test_expiry_refuses_what_openai_refuses_naming_the_field(value, param):
    with pytest.raises(ClientError) as info:
        expiry_seconds(value)
    assert info.value.param == param


def test_only_ek_keys_look_like_secrets():
    assert looks_like_secret("ek_abc") and not looks_like_secret("sk-abc")
    assert not looks_like_secret(None)
