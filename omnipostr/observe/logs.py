"""Logging: one line per record, secrets redacted, the request id attached.

``configure_logging(settings)`` installs one handler on the root logger. Its filters run for
every record that reaches it, from any logger:

- :class:`RedactingFilter` replaces anything that looks like a password, token, API key,
  cookie or credential (in the message, its arguments, string extras and the traceback)
  with ``[REDACTED]``, and an email address with ``[email]``;
- :class:`RequestContextFilter` adds the id of the HTTP request being served (set by the
  request-log middleware), so every line a request causes can be found again.

Two line formats: ``json`` (one JSON object per line, the production default) and ``text``
(``key=value``, the development default). ``Settings.log_format`` picks one when present.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

REDACTED = "[REDACTED]"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "omnipostr_request_id", default=None
)

# Names whose value is secret wherever they appear as ``name=value`` or ``"name": "value"``.
_HIDDEN_FIELD_NAMES = (
    r"[\w-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|credentials?|signature|csrf|session[_-]?id|sessionid|code[_-]?verifier)"
    r"[\w-]*|pwd|otp|totp|sid"
)
_NAME_VALUE = re.compile(
    r"(?i)(\"?\b(" + _HIDDEN_FIELD_NAMES + r")\"?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s\"'&;,)}\]]+)"
)


def _name_value(m: re.Match[str]) -> str:
    # Token counts (input_tokens=812) are usage figures, not secrets.
    if "token" in m.group(2).lower() and m.group(3).isdigit():
        return m.group(0)
    return m.group(1) + REDACTED


_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Whole header values: cookies and authorization.
    (re.compile(r"(?i)\b((?:set-)?cookie\"?\s*[:=]\s*\"?)[^\r\n\"]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b((?:proxy-)?authorization\"?\s*[:=]\s*\"?)[^\r\n\",]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"(?i)\b(basic)\s+[A-Za-z0-9+/=]{12,}"), r"\1 " + REDACTED),
    # user:password@host in URLs.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1" + REDACTED + "@"),
    # Well-known key shapes.
    (re.compile(r"\bsk-ant-[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]+"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), REDACTED),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),  # Fernet tokens
    # Email addresses: personal data, never in a log line (log a user id instead).
    (re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"), "[email]"),
]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Long random-looking runs: URL-safe tokens, hex keys. Needs a letter and a digit.
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")


def _long_run(m: re.Match[str]) -> str:
    s = m.group(0)
    if _UUID.fullmatch(s):
        return s
    if any(c.isdigit() for c in s) and any(c.isalpha() for c in s):
        return REDACTED
    return s


def redact(text: str) -> str:
    """``text`` with every value that looks like a secret replaced by ``[REDACTED]``."""
    if not text:
        return text
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    text = _NAME_VALUE.sub(_name_value, text)
    return _LONG_RUN.sub(_long_run, text)


# Extras added by our own code whose values are known to be safe and must stay readable.
_SAFE_EXTRAS = frozenset({"request_id", "method", "status", "duration_ms", "route", "job"})
_STD_ATTRS = frozenset(
    logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STD_ATTRS and not k.startswith("_")}


class RedactingFilter(logging.Filter):
    """Redacts secrets from a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in _extras(record).items():
            if key in _SAFE_EXTRAS:
                continue
            if isinstance(value, str):
                setattr(record, key, redact(value))
            elif not isinstance(value, int | float | bool | type(None)):
                setattr(record, key, redact(str(value)))
        return True


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` of the request being served, when there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            rid = request_id_var.get()
            if rid is not None:
                record.request_id = rid
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the extras, and exc."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            data[key] = value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exc"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False, default=str)


def _kv(value: Any) -> str:
    s = str(value)
    if s and not any(c in s for c in ' "=\\\n\r\t'):
        return s
    return json.dumps(s, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """One ``key=value`` line: ts level logger msg, the extras, and exc (escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={_timestamp(record)}",
            f"level={record.levelname}",
            f"logger={record.name}",
            f"msg={_kv(record.getMessage())}",
        ]
        parts += [f"{k}={_kv(v)}" for k, v in _extras(record).items()]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(f"exc={_kv(record.exc_text)}")
        return " ".join(parts)


class _OmniHandler(logging.StreamHandler):
    """Marks the handler ``configure_logging`` installed, so a second call replaces it."""


def make_handler(fmt: str = "text", stream=None) -> logging.Handler:
    handler = _OmniHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(RedactingFilter())
    return handler


# Loggers whose lines repeat what the request log says, with query strings.
_QUIET = ("uvicorn.access", "granian.access", "hypercorn.access", "httpx", "httpcore", "apscheduler")


def configure_logging(settings=None, *, stream=None) -> logging.Handler:
    """Install the one root handler (idempotent). Returns it."""
    if settings is None:
        from omnipostr.settings import get_settings

        settings = get_settings()
    fmt = getattr(settings, "log_format", None) or (
        "json" if getattr(settings, "is_production", False) else "text"
    )
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, _OmniHandler):
            root.removeHandler(h)
    handler = make_handler(fmt, stream)
    root.addHandler(handler)
    root.setLevel(str(getattr(settings, "log_level", "INFO")).upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
