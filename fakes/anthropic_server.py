"""A loopback stand-in for Anthropic's Messages API, speaking the real protocol over HTTP.

    with FakeAnthropic(ttft=0.01) as fake:        # 127.0.0.1, a free port
        settings.anthropic_base_url = fake.base_url
        ...
        fake.fail_next("overloaded", 2)             # the next two requests get 529
        fake.requests[-1].body["messages"]         # what the app sent (no API key)

``POST /v1/messages`` answers like the real API: a JSON message, or with ``"stream": true``
server-sent events in the real order (``message_start`` with usage, ``content_block_start``,
``ping``, ``content_block_delta`` text deltas, ``content_block_stop``, ``message_delta`` with
the stop reason and output usage, ``message_stop``), ``request-id`` headers, Anthropic's error
shape (``{"type": "error", "error": {"type": ..., "message": ...}}``), a 401 without an
``x-api-key`` and a 400 without ``anthropic-version``.

Token usage counts about four characters a token and simulates prompt caching: a content
block marked ``cache_control: {"type": "ephemeral"}`` ends a prefix (tools, system, messages
in that order); a prefix seen within the cache TTL (5 minutes, or 1 hour with
``"ttl": "1h"``) is a cache read, else a cache write, when it is at least
``cache_min_tokens`` long. Like Claude, a new entry is usable once its response has begun
(``message_start``).

The answer: by default the offline engine's variant for what the prompt asks
(``prompting.read_prompt``: the platform and options in the instructions, the source from
the document block that opens the user turn, and for "Regenerate" the take asked for),
rendered in the answer format the Claude engine parses; so answers are valid and faithful,
and another take differs from the last. ``responder`` replaces it: a callable taking a
:class:`Call` and returning the text (or a :class:`Reply` with a stop reason). An answer
longer than the request's ``max_tokens`` is cut there with ``stop_reason: "max_tokens"``.

Knobs (constructor, ``configure(...)`` at run time, or ``POST /_fake/config``):
``ttft`` (seconds to the first event and the first words of the answer), ``tps`` (output
tokens a second after those; 0 = no delay),
``cache_ttl``, ``cache_min_tokens``, ``api_keys`` (accepted keys; ``None`` accepts any).
Faults, for the next ``n`` requests or with a probability (seeded), optionally only for one
platform: ``rate_limit`` (429 with ``retry-after``/``retry-after-ms``), ``overloaded`` (529),
``server_error`` (500), ``drop`` (the connection closes mid-stream), ``malformed`` (broken
JSON/SSE), ``stream_error`` (an ``error`` event mid-stream, as the API sends on overload) and
``stall`` (silence after ``message_start``, for timeouts).

Admin endpoints: ``GET/POST /_fake/config``, ``GET/DELETE /_fake/requests``,
``GET /_fake/stats`` (requests, in flight, most in flight at once), ``POST /_fake/reset``.

Run it for demos and benchmarks::

    python -m fakes.anthropic_server --port 8787 --ttft 0.4 --tps 60 --fail overloaded:0.05
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import math
import random
import secrets
import signal
import string
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fakes.loopback import Drop, LoopbackServer, QuietDrops
from omnipostr.repurpose.engines import prompting
from omnipostr.repurpose.engines.offline import build_variant

__all__ = [
    "FAULT_KINDS",
    "Call",
    "FakeAnthropic",
    "Fault",
    "RecordedRequest",
    "Reply",
    "count_tokens",
    "default_responder",
]

log = logging.getLogger(__name__)

FAULT_KINDS = (
    "rate_limit",
    "overloaded",
    "server_error",
    "drop",
    "malformed",
    "stream_error",
    "stall",
)
_HIDDEN_HEADERS = {"x-api-key", "authorization", "cookie"}


def count_tokens(text: str) -> int:
    """Roughly how many tokens ``text`` is (about four characters a token)."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _id(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(24))


# --- data -----------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    count: int | None = None  # apply to the next ``count`` matching requests...
    probability: float = 0.0  # ...or to each matching request with this probability
    platform: str | None = None  # only requests for this platform
    retry_after: float | None = None  # seconds, sent as ``retry-after`` (rounded up)
    retry_after_ms: int | None = None  # sent as ``retry-after-ms``
    after_tokens: int = 8  # drop / malformed / stream_error / stall after this many tokens
    seconds: float = 60.0  # how long a stall lasts

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(FAULT_KINDS)}")


@dataclass
class RecordedRequest:
    id: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    platform: str | None = None
    status: int | None = None
    fault: str | None = None
    usage: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reply:
    text: str
    stop_reason: str = "end_turn"


@dataclass
class Call:
    """What a responder gets: the request body, what the prompt asks for, and its number."""

    body: dict[str, Any]
    prompt: prompting.PromptInfo | None
    platform: str | None
    number: int  # 1 for the first request the server answered


Responder = Callable[[Call], "str | Reply"]


def default_responder(call: Call) -> str:
    """The offline engine's variant (its take ``options.variation``) for the platform and
    the document of the prompt."""
    info = call.prompt
    if info is not None:
        return prompting.render(build_variant(info.source, info.platform, info.options))
    words = 0
    for message in call.body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else ""
        for text in prompting.block_texts(content):
            words += len(text.split())
    return f"Hello from the loopback Anthropic server. Your message had {words} words."


@dataclass
class _Knobs:
    ttft: float = 0.05
    tps: float = 0.0
    chunk_chars: int = 12
    cache_ttl: float = 300.0
    cache_min_tokens: int = 1024
    api_keys: list[str] | None = None




_quiet = QuietDrops()


# --- the server -----------------------------------------------------------------------------


class FakeAnthropic(LoopbackServer):
    thread_name = "fake-anthropic"
    _log_filter = _quiet

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ttft: float = 0.05,
        tps: float = 0.0,
        chunk_chars: int = 12,
        cache_ttl: float = 300.0,
        cache_min_tokens: int = 1024,
        api_keys: list[str] | None = None,
        responder: Responder | None = None,
        seed: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._initial = _Knobs(
            ttft=ttft,
            tps=tps,
            chunk_chars=chunk_chars,
            cache_ttl=cache_ttl,
            cache_min_tokens=cache_min_tokens,
            api_keys=list(api_keys) if api_keys is not None else None,
        )
        self._knobs = _Knobs(**asdict(self._initial))
        self.responder: Responder | None = responder
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._requests: list[RecordedRequest] = []
        self._cache: dict[str, float] = {}  # prefix key -> expiry (monotonic)
        self._answered = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._init_server()
        self.app = self._build_app()

    # --- lifecycle ------------------------------------------------------------------------

    def _asgi_app(self):
        return self._asgi

    # --- knobs ----------------------------------------------------------------------------

    def configure(self, **knobs: Any) -> None:
        """Change ``ttft``, ``tps``, ``chunk_chars``, ``cache_ttl``, ``cache_min_tokens``,
        ``api_keys`` or ``seed`` while running."""
        with self._lock:
            for key, value in knobs.items():
                if key == "seed":
                    self._rng.seed(value)
                elif key in _Knobs.__dataclass_fields__:
                    setattr(self._knobs, key, value)
                else:
                    raise ValueError(f"unknown knob {key!r}")

    @property
    def knobs(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._knobs)

    def fail_next(
        self, kind: str, n: int = 1, *, platform: str | None = None, **params: Any
    ) -> Fault:
        """The next ``n`` requests (for ``platform``, if given) get fault ``kind``."""
        fault = Fault(kind=kind, count=n, platform=platform, **params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_randomly(
        self,
        kind: str,
        probability: float,
        *,
        platform: str | None = None,
        seed: int | None = None,
        **params: Any,
    ) -> Fault:
        """Each request (for ``platform``, if given) gets fault ``kind`` with
        ``probability``; ``seed`` makes the draws repeatable."""
        fault = Fault(kind=kind, probability=probability, platform=platform, **params)
        with self._lock:
            if seed is not None:
                self._rng.seed(seed)
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def reset(self) -> None:
        """Back to the knobs it started with: no faults, no requests, an empty cache and the
        default responder."""
        with self._lock:
            self._knobs = _Knobs(**asdict(self._initial))
            self._faults.clear()
            self._requests.clear()
            self._cache.clear()
            self._answered = 0
            self.max_in_flight = self.in_flight
            self.responder = None

    # --- the request log --------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request to ``/v1/...`` so far (headers without the API key)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.requests)} requests arrived, expected {n}")
            time.sleep(0.005)
        return self.requests

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": len(self._requests),
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "cache_entries": len(self._cache),
            }

    # --- internals --------------------------------------------------------------------------

    async def _asgi(self, scope, receive, send) -> None:
        counted = scope["type"] == "http" and scope["path"].startswith("/v1/messages")
        if counted:
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            if counted:
                with self._lock:
                    self.in_flight -= 1

    def _build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/messages/count_tokens", self._count_tokens, methods=["POST"]),
                Route("/_fake/config", self._admin_config, methods=["GET", "POST"]),
                Route("/_fake/requests", self._admin_requests, methods=["GET", "DELETE"]),
                Route("/_fake/stats", self._admin_stats, methods=["GET"]),
                Route("/_fake/reset", self._admin_reset, methods=["POST"]),
            ]
        )

    def _pick_fault(self, platform: str | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.platform is not None and fault.platform != platform:
                    continue
                if fault.count is not None:
                    if fault.count > 0:
                        fault.count -= 1
                        chosen = fault
                        break
                    continue
                if self._rng.random() < fault.probability:
                    chosen = fault
                    break
            else:
                return None
            self._faults = [f for f in self._faults if f.count is None or f.count > 0]
            return chosen

    @staticmethod
    def _error(status: int, kind: str, message: str, request_id: str, headers=None) -> JSONResponse:
        body = {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": request_id,
        }
        return JSONResponse(
            body, status_code=status, headers={"request-id": request_id, **(headers or {})}
        )

    def _record(self, request: Request, body: Any, request_id: str) -> RecordedRequest:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HIDDEN_HEADERS}
        record = RecordedRequest(
            id=request_id,
            method=request.method,
            path=request.url.path,
            headers=headers,
            body=body,
            received_at=time.time(),
        )
        with self._lock:
            self._requests.append(record)
        return record

    @staticmethod
    def _api_key(request: Request) -> str:
        """The key of a request: ``x-api-key``, or ``Authorization: Bearer`` (which the
        current SDK sends)."""
        key = request.headers.get("x-api-key", "").strip()
        if key:
            return key
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _check(self, request: Request, request_id: str) -> JSONResponse | None:
        key = self._api_key(request)
        if not key:
            return self._error(
                401, "authentication_error", "x-api-key header is required", request_id
            )
        with self._lock:
            keys = self._knobs.api_keys
        if keys is not None and key not in keys:
            return self._error(401, "authentication_error", "invalid x-api-key", request_id)
        if not request.headers.get("anthropic-version"):
            return self._error(
                400, "invalid_request_error", "anthropic-version: header is required", request_id
            )
        return None

    async def _read_body(self, request: Request, record: RecordedRequest) -> dict | JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return self._error(
                400, "invalid_request_error", "The request body is not valid JSON.", record.id
            )
        record.body = body
        if not isinstance(body, dict):
            return self._error(
                400, "invalid_request_error", "The request body must be an object.", record.id
            )
        problems = []
        if not isinstance(body.get("model"), str) or not body.get("model"):
            problems.append("model: Field required")
        if not isinstance(body.get("max_tokens"), int) or body.get("max_tokens", 0) < 1:
            problems.append("max_tokens: Field required")
        if not isinstance(body.get("messages"), list) or not body.get("messages"):
            problems.append("messages: Field required")
        if problems:
            return self._error(400, "invalid_request_error", "; ".join(problems), record.id)
        return body

    # --- prompt caching ---------------------------------------------------------------------

    def _cache_plan(
        self, body: dict, api_key: str
    ) -> tuple[dict[str, int], list[tuple[str, float]]]:
        """Usage for ``body`` and the cache entries its response will write."""
        blocks: list[tuple[str, int, dict | None]] = []

        def add(block: Any, role: str = "") -> None:
            if isinstance(block, str):
                block = {"type": "text", "text": block}
            if not isinstance(block, dict):
                return
            control = block.get("cache_control")
            plain = {k: v for k, v in block.items() if k != "cache_control"}
            text = plain.get("text") if isinstance(plain.get("text"), str) else json.dumps(plain)
            canonical = json.dumps([role, plain], sort_keys=True, ensure_ascii=False)
            blocks.append(
                (canonical, count_tokens(text), control if isinstance(control, dict) else None)
            )

        for tool in body.get("tools") or []:
            add(tool, "tool")
        system = body.get("system")
        if isinstance(system, str):
            add(system, "system")
        elif isinstance(system, list):
            for block in system:
                add(block, "system")
        for message in body.get("messages") or []:
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            role = str(message.get("role", ""))
            for block in [content] if isinstance(content, str) else content or []:
                add(block, role)

        with self._lock:
            ttl_default = self._knobs.cache_ttl
            minimum = self._knobs.cache_min_tokens
            now = time.monotonic()
            digest = hashlib.sha256(f"{api_key}\n{body.get('model')}".encode())
            total = 0
            prefixes: list[tuple[str, int, float]] = []  # key, tokens so far, ttl
            for canonical, tokens, control in blocks:
                digest.update(canonical.encode())
                total += tokens
                if control and control.get("type") == "ephemeral":
                    ttl = 3600.0 if control.get("ttl") == "1h" else ttl_default
                    prefixes.append((digest.hexdigest(), total, ttl))
            read = 0
            read_at = -1
            for i in range(len(prefixes) - 1, -1, -1):
                key, tokens, ttl = prefixes[i]
                if self._cache.get(key, 0) > now:
                    read, read_at = tokens, i
                    self._cache[key] = now + ttl  # a read refreshes the entry
                    break
            writes = [(k, ttl) for k, tokens, ttl in prefixes[read_at + 1 :] if tokens >= minimum]
            written_to = max(
                (tokens for _, tokens, _ in prefixes[read_at + 1 :] if tokens >= minimum),
                default=read,
            )
        return (
            {
                "input_tokens": total - written_to,
                "cache_creation_input_tokens": written_to - read,
                "cache_read_input_tokens": read,
            },
            writes,
        )

    def _write_cache(self, writes: list[tuple[str, float]]) -> None:
        now = time.monotonic()
        with self._lock:
            for key, ttl in writes:
                self._cache[key] = now + ttl
            for key in [k for k, expiry in self._cache.items() if expiry <= now]:
                del self._cache[key]

    # --- handlers -----------------------------------------------------------------------------

    async def _messages(self, request: Request) -> Response:
        received = time.monotonic()  # ttft counts from here: working out the answer is part of it
        request_id = _id("req_")
        record = self._record(request, None, request_id)
        refused = self._check(request, request_id)
        if refused is not None:
            record.status = refused.status_code
            with contextlib.suppress(Exception):
                record.body = json.loads(await request.body())
            return refused
        body = await self._read_body(request, record)
        if isinstance(body, Response):
            record.status = body.status_code
            return body

        info = prompting.read_prompt(body)
        record.platform = info.platform if info else None
        fault = self._pick_fault(record.platform)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind in ("rate_limit", "overloaded", "server_error"):
            return self._status_fault(fault, record)

        usage, writes = self._cache_plan(body, self._api_key(request))
        with self._lock:
            self._answered += 1
            number = self._answered
            knobs = _Knobs(**asdict(self._knobs))
        responder = self.responder or default_responder
        call = Call(body=body, prompt=info, platform=record.platform, number=number)
        try:
            reply = await asyncio.to_thread(responder, call)
        except Exception as exc:  # a broken responder is a 500, as a broken model server would be
            log.exception("responder failed")
            record.status = 500
            return self._error(
                500, "api_error", f"Internal server error ({type(exc).__name__})", request_id
            )
        if isinstance(reply, str):
            reply = Reply(reply)
        text, stop_reason = reply.text, reply.stop_reason
        max_chars = int(body["max_tokens"]) * 4
        if len(text) > max_chars:
            text, stop_reason = text[:max_chars], "max_tokens"
        usage["output_tokens"] = count_tokens(text)
        record.usage = dict(usage)
        message_id = _id("msg_")
        model = body["model"]
        record.status = 200

        if body.get("stream"):
            events = self._events(
                message_id, model, text, stop_reason, usage, writes, knobs, fault, received
            )
            return StreamingResponse(
                events,
                media_type="text/event-stream; charset=utf-8",
                headers={"request-id": request_id, "cache-control": "no-cache"},
            )

        await asyncio.sleep(
            max(0.0, knobs.ttft - (time.monotonic() - received))
            + (usage["output_tokens"] / knobs.tps if knobs.tps else 0)
        )
        self._write_cache(writes)
        message = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {**usage, "service_tier": "standard"},
        }
        if fault is not None and fault.kind in ("malformed", "drop", "stream_error", "stall"):
            if fault.kind == "stall":
                await asyncio.sleep(fault.seconds)
            broken = json.dumps(message)[: max(10, len(json.dumps(message)) // 2)]
            return Response(
                broken, media_type="application/json", headers={"request-id": request_id}
            )
        return JSONResponse(message, headers={"request-id": request_id})

    def _status_fault(self, fault: Fault, record: RecordedRequest) -> JSONResponse:
        headers = {"x-should-retry": "true"}
        if fault.retry_after is not None:
            headers["retry-after"] = str(max(0, math.ceil(fault.retry_after)))
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
        if fault.kind == "rate_limit":
            status, kind, message = (
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            )
            headers.setdefault("retry-after", "1")
            headers["anthropic-ratelimit-requests-remaining"] = "0"
        elif fault.kind == "overloaded":
            status, kind, message = 529, "overloaded_error", "Overloaded"
        else:
            status, kind, message = 500, "api_error", "Internal server error"
        record.status = status
        return self._error(status, kind, message, record.id, headers)

    async def _events(
        self,
        message_id: str,
        model: str,
        text: str,
        stop_reason: str,
        usage: dict[str, int],
        writes: list[tuple[str, float]],
        knobs: _Knobs,
        fault: Fault | None,
        received: float,
    ) -> AsyncIterator[str]:
        def sse(event: str, data: dict) -> str:
            return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

        await asyncio.sleep(max(0.0, knobs.ttft - (time.monotonic() - received)))
        self._write_cache(writes)
        yield sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {**usage, "output_tokens": 1, "service_tier": "standard"},
                },
            },
        )
        yield sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        yield sse("ping", {"type": "ping"})
        sent_tokens = 0
        step = max(1, knobs.chunk_chars)
        for start in range(0, len(text), step):
            if fault is not None and sent_tokens >= fault.after_tokens:
                async for piece in self._stream_fault(fault, sse):
                    yield piece
                return
            chunk = text[start : start + step]
            tokens = count_tokens(chunk)
            if knobs.tps and start:  # the first words come at ``ttft``; the rest at ``tps``
                await asyncio.sleep(tokens / knobs.tps)
            sent_tokens += tokens
            yield sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": chunk},
                },
            )
        if fault is not None:
            async for piece in self._stream_fault(fault, sse):
                yield piece
            return
        yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        yield sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {
                    "input_tokens": usage["input_tokens"],
                    "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
                    "cache_read_input_tokens": usage["cache_read_input_tokens"],
                    "output_tokens": usage["output_tokens"],
                },
            },
        )
        yield sse("message_stop", {"type": "message_stop"})

    @staticmethod
    async def _stream_fault(fault: Fault, sse: Callable[[str, dict], str]) -> AsyncIterator[str]:
        if fault.kind == "drop":
            await asyncio.sleep(0.01)  # let what was sent reach the client first
            raise Drop("connection dropped on purpose")
        if fault.kind == "malformed":
            yield 'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_de\n\n'
            return
        if fault.kind == "stream_error":
            yield sse(
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            )
            return
        if fault.kind == "stall":
            await asyncio.sleep(fault.seconds)
            return

    async def _count_tokens(self, request: Request) -> Response:
        request_id = _id("req_")
        record = self._record(request, None, request_id)
        refused = self._check(request, request_id)
        if refused is not None:
            record.status = refused.status_code
            return refused
        body = await self._read_body(request, record)
        if isinstance(body, Response) and body.status_code != 400:
            return body
        if isinstance(body, Response):
            # count_tokens takes no max_tokens; only the JSON must be valid.
            try:
                body = json.loads(await request.body())
            except ValueError:
                return body
        usage, _ = self._cache_plan(body, "")
        total = sum(usage.values())
        record.status = 200
        return JSONResponse({"input_tokens": total}, headers={"request-id": request_id})

    # --- admin ------------------------------------------------------------------------------

    async def _admin_config(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                data = await request.json()
                if not isinstance(data, dict):
                    raise ValueError("expected an object")
                faults = data.pop("faults", None)
                if data.pop("clear_faults", False):
                    self.clear_faults()
                self.configure(**data)
                for spec in faults or []:
                    fault = Fault(**spec)
                    with self._lock:
                        self._faults.append(fault)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({**self.knobs, "faults": [asdict(f) for f in self.faults]})

    async def _admin_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear_requests()
            return JSONResponse([])
        return JSONResponse([r.to_dict() for r in self.requests])

    async def _admin_stats(self, request: Request) -> Response:
        return JSONResponse(self.stats())

    async def _admin_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse(self.stats())


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the loopback Anthropic Messages API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--ttft", type=float, default=0.5, help="seconds to the first token")
    parser.add_argument(
        "--tps", type=float, default=60.0, help="output tokens a second (0: instant)"
    )
    parser.add_argument("--cache-ttl", type=float, default=300.0)
    parser.add_argument("--cache-min-tokens", type=int, default=1024)
    parser.add_argument("--api-key", action="append", help="accepted key (repeat; default: any)")
    parser.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="KIND:PROBABILITY[:PLATFORM]",
        help=f"random fault, KIND one of {', '.join(FAULT_KINDS)}",
    )
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    fake = FakeAnthropic(
        args.host,
        args.port,
        ttft=args.ttft,
        tps=args.tps,
        cache_ttl=args.cache_ttl,
        cache_min_tokens=args.cache_min_tokens,
        api_keys=args.api_key,
        seed=args.seed,
    )
    for spec in args.fail:
        kind, _, rest = spec.partition(":")
        probability, _, platform = rest.partition(":")
        fake.fail_randomly(kind, float(probability or 1.0), platform=platform or None)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with fake:
        print(f"Fake Anthropic API listening on {fake.base_url}", flush=True)
        print(f"  OMNIPOSTR_ANTHROPIC_BASE_URL={fake.base_url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
