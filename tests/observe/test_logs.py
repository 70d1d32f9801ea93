"""Logging set-up: one line per record and secrets redacted, from any logger."""

from __future__ import annotations

import io
import json
import logging

import pytest

from omnipostr.observe.logs import REDACTED, configure_logging, redact
from omnipostr.settings import Settings

SECRETS = {
    "password=hunter2&next=/": "hunter2",
    '{"password": "correct horse", "user": "ada"}': "correct horse",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig": "eyJhbGciOiJIUzI1NiJ9",
    "Cookie: omnipostr_session=abc123def456; theme=dark": "abc123def456",
    "set-cookie: sid=Zz9Yy8Xx7; HttpOnly": "Zz9Yy8Xx7",
    "key sk-ant-api03-AbCdEf123456 rejected": "sk-ant-api03-AbCdEf123456",
    "stripe sk_live_51HxYz0123456789abcdef": "sk_live_51HxYz0123456789abcdef",
    "webhook whsec_AbC123dEf456": "whsec_AbC123dEf456",
    "postgresql://omni:S3cretPw@db.internal:5432/app": "S3cretPw",
    "reset link https://x.test/reset?token=Q2w3E4r5T6y7U8i9": "Q2w3E4r5T6y7U8i9",
    "api_key: op_live_7f3a9b2c": "op_live_7f3a9b2c",
    "X-Api-Key=abcdef0123": "abcdef0123",
    "session token Vx9kQ2mZ7pL4nB8cR1tY6wE3sD5fG0hJ2kL9 seen": "Vx9kQ2mZ7pL4nB8cR1tY6wE3sD5fG0hJ2kL9",
    "client_secret='s3cr3t-value'": "s3cr3t-value",
    "encrypted gAAAAABlZ3Xc1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St": "gAAAAABlZ3Xc1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St",
}


@pytest.mark.promise("LOG-1")
@pytest.mark.parametrize("line,secret", SECRETS.items())
def test_redact_removes_secrets(line, secret):
    out = redact(line)
    assert secret not in out and REDACTED in out


@pytest.mark.parametrize(
    "line",
    [
        "GET /items/42 200",
        "request_id=3f2b8c1e-9a7d-4c2b-8e1f-0a9b8c7d6e5f",
        "input_tokens=812 output_tokens=1200",
        "mail 12 (verify_email, for user 3) kept on this machine",
        "outbox: 3 sent, 0 to retry, 0 failed",
    ],
)
def test_redact_leaves_ordinary_text_alone(line):
    assert redact(line) == line


@pytest.mark.parametrize(
    "line",
    ["mail to ada@example.com: Confirm", "invite for Grace.Hopper+team@navy.mil.example failed", "user=x@y.io"],
)
def test_redact_removes_email_addresses(line):
    out = redact(line)
    assert "@" not in out and "[email]" in out


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


@pytest.mark.promise("LOG-1")
def test_configure_logging_one_json_line_per_record_redacted(root_logging):
    buf = io.StringIO()
    settings = Settings(env="production", log_level="INFO")
    configure_logging(settings, stream=buf)
    configure_logging(settings, stream=buf)  # idempotent: still one handler
    assert sum(type(h).__name__ == "_OmniHandler" for h in logging.getLogger().handlers) == 1

    log = logging.getLogger("omnipostr.anything")
    log.info("login for %s with password=%s", "ada@example.com", "hunter2", extra={"cookie": "sid=abc123456789"})
    try:
        raise ValueError("bad token=Q2w3E4r5T6y7U8i9\nsecond line")
    except ValueError:
        log.exception("it failed")
    log.debug("not shown at INFO")

    lines = buf.getvalue().splitlines()
    assert len(lines) == 2  # the traceback stays inside its record's line
    first, second = (json.loads(x) for x in lines)
    assert first["msg"] == "login for [email] with password=[REDACTED]"
    assert first["level"] == "INFO" and first["logger"] == "omnipostr.anything" and first["ts"].endswith("Z")
    assert "abc123456789" not in lines[0]
    assert second["msg"] == "it failed" and "ValueError" in second["exc"]
    assert "Q2w3E4r5T6y7U8i9" not in buf.getvalue() and "hunter2" not in buf.getvalue()


def test_development_format_is_key_value_on_one_line(root_logging):
    buf = io.StringIO()
    configure_logging(Settings(env="development", log_level="DEBUG"), stream=buf)
    logging.getLogger("omnipostr.x").debug("two\nlines", extra={"job": "outbox.send"})
    [line] = buf.getvalue().splitlines()
    assert "level=DEBUG" in line and 'msg="two\\nlines"' in line and "job=outbox.send" in line
