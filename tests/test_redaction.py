"""`realtime_widget.protocol.redaction`: the shared rules that keep keys out of logs (pure)."""

from __future__ import annotations

import logging

import pytest

from realtime_widget.protocol.redaction import RedactingLogger, redact_query_secrets


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "< GET /v1/realtime?api-key=s3cr3t&model=gpt HTTP/1.1",
            "< GET /v1/realtime?api-key=[redacted]&model=gpt HTTP/1.1",
        ),
        (
            "wss://h/v1/realtime?model=m&KEY=abc#frag",
            "wss://h/v1/realtime?model=m&KEY=[redacted]#frag",
        ),
        ("?token=a b&sig=c", "?token=[redacted] b&sig=[redacted]"),
        ("?monkey=1&keys=2&model=key", "?monkey=1&keys=2&model=key"),  # not credential names
    ],
)
def test_redact_query_secrets_replaces_credential_values_only(text, shown):
    assert redact_query_secrets(text) == shown


def test_redacting_logger_hides_a_key_in_a_logged_request_line_it_was_not_told_about(caplog):
    caplog.set_level(logging.DEBUG)
    log = RedactingLogger(logging.getLogger("test.redaction"), "sk-known")
    log.debug("< GET %s HTTP/1.1", "/v1/realtime?api-key=azure-key-123&model=m")
    log.debug("> Authorization: Bearer sk-known")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "azure-key-123" not in text and "sk-known" not in text
    assert "api-key=[redacted]&model=m" in text
