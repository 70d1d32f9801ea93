"""The Claude engine: one platform's variant from Anthropic's Messages API, streamed.

It talks to Claude through the official ``anthropic`` SDK (``AsyncAnthropic``) with the SDK's
own retries turned off, so that every wait is ours and visible as a ``Retry`` event:

- Retries on 429 (rate limited), 529 (overloaded), other 5xx, an ``error`` event in the
  stream, a dropped or failed connection and a garbled stream, up to
  ``settings.claude_max_retries`` times, waiting what the server asks (``retry-after-ms`` or
  ``retry-after``, plus up to 10 %) or else an exponential backoff with jitter.
  ``Retry(attempt=k, ...)`` says try ``k`` failed; after the wait try ``k + 1`` streams the
  answer again from its start, so a preview built from earlier deltas should be reset.
- ``settings.claude_timeout_seconds`` bounds each try, from the moment it has a slot to its
  last streamed event; a try that runs out of time is retried like an outage. The waits
  between tries do not count against it, but a server that asks for a longer wait than one
  try may take ends the generation of that post at once (a readable failure now, rather
  than a card that sits for minutes).
- At most ``settings.claude_concurrency`` requests run at once per engine instance.
- The prompt (``prompting``) is laid out for prompt caching: the system prompt and the
  document block that opens the user turn are identical for every platform of a generation
  and end at the cache breakpoint, so the other platforms read them from the cache. Claude
  makes a cache entry usable once the first response has begun, so when several platforms
  of one source start together, the first goes ahead and the others wait for its first
  event (only for prefixes long enough to be cached at all).
- Models that think before answering unless told not to are told not to (``_THINKING``).
- Usage (all four token counts) and cost are summed over the tries that reached Claude.

Outages end in ``Failed`` with a sentence a user can read; this module never lets an
exception or a traceback out of ``stream``, and never puts the API key in a message or a
log line. AI-1: the base URL must be https, except http to a loopback address (a test
server), and only while ``settings.allow_loopback_http_ai`` is on.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import ipaddress
import json
import logging
import random
import re
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anthropic
import httpx
import httpx2
import pydantic

from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.engines import pricing, prompting
from omnipostr.repurpose.engines.base import (
    Delta,
    Done,
    Event,
    Failed,
    Options,
    Retry,
    Source,
    Usage,
)
from omnipostr.settings import Settings, get_settings

log = logging.getLogger(__name__)

__all__ = ["ClaudeEngine", "check_base_url", "is_loopback_host"]


# --- AI-1: where content may be sent ---------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x.x.x)."""
    host = (host or "").strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_base_url(url: str, *, allow_loopback_http: bool = True) -> str:
    """``url`` when content may be sent there: https anywhere, or http to a loopback host.
    Raises ``ValueError`` otherwise (the message does not repeat the URL)."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.hostname or ""
    except ValueError:
        raise ValueError("The Anthropic base URL is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if not host:
        raise ValueError("The Anthropic base URL has no host name.")
    if scheme == "https":
        return url
    if scheme == "http" and allow_loopback_http and is_loopback_host(host):
        return url
    if scheme == "http":
        raise ValueError(
            "Refusing to send content to Claude over plain http: the Anthropic base URL must "
            "use https (http is accepted only for a loopback test server)."
        )
    raise ValueError("The Anthropic base URL must start with https://.")


# --- failures ------------------------------------------------------------------------------


@dataclass(eq=False)
class _Failure(Exception):
    kind: str
    retryable: bool
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")


def _safe(text: str | None, limit: int = 200) -> str:
    text = " ".join(str(text or "").split())
    text = _KEY_LIKE.sub("[key]", text)
    return text[:limit]


def _retry_after(headers) -> float | None:
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _classify(exc: BaseException) -> _Failure:
    if isinstance(exc, _Failure):
        return exc
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        kind_of_error = getattr(exc, "type", None)
        headers = getattr(exc.response, "headers", None)
        after = _retry_after(headers)
        if status < 400:  # an "error" event inside a 200 stream
            if kind_of_error == "overloaded_error":
                return _Failure("overloaded", True, 529, after)
            if kind_of_error == "rate_limit_error":
                return _Failure("rate_limit", True, 429, after)
            return _Failure("server", True, 500, after, _safe(getattr(exc, "api_message", "")))
        if status == 429:
            return _Failure("rate_limit", True, status, after)
        if status == 529 or kind_of_error == "overloaded_error":
            return _Failure("overloaded", True, status, after)
        if status >= 500:
            return _Failure("server", True, status, after)
        if status == 401:
            return _Failure("auth", False, status)
        if status == 403:
            return _Failure("permission", False, status)
        if status == 404:
            return _Failure("not_found", False, status)
        if status == 413:
            return _Failure("too_large", False, status)
        if status in (408, 409):
            return _Failure("server", True, status, after)
        return _Failure("bad_request", False, status, None, _safe(getattr(exc, "api_message", "")))
    if isinstance(exc, anthropic.APITimeoutError):
        return _Failure("connection", True, detail="timed out")
    if isinstance(exc, anthropic.APIConnectionError):
        return _Failure("connection", True)
    if isinstance(exc, httpx2.TransportError | httpx.TransportError):
        return _Failure("dropped", True)
    if isinstance(
        exc,
        json.JSONDecodeError
        | anthropic.APIResponseValidationError
        | pydantic.ValidationError
        | UnicodeDecodeError,
    ):
        return _Failure("garbled", True)
    return _Failure("unexpected", False, detail=type(exc).__name__)


def _tries(n: int) -> str:
    return "Tried once." if n == 1 else f"Tried {n} times."


_PERMANENT = ("auth", "permission", "not_found", "too_large", "bad_request", "unexpected")


def _what(f: _Failure, engine: ClaudeEngine) -> str:
    status = f.status
    match f.kind:
        case "rate_limit":
            return f"Claude's rate limit was reached ({status or 429})."
        case "overloaded":
            return f"Claude is overloaded right now ({status or 529})."
        case "server":
            return f"Claude had a server error ({status or 500})."
        case "connection":
            return "Could not reach Claude (the connection failed)."
        case "dropped":
            return "The connection to Claude dropped before the answer was complete."
        case "garbled":
            return "Claude's answer arrived garbled."
        case "timeout":
            return f"Claude did not finish within {engine.timeout:g} seconds."
        case "auth":
            return "Claude did not accept the API key (401). Check the Anthropic API key in the settings."
        case "permission":
            return "This API key may not use Claude (403). Check the Anthropic account."
        case "not_found":
            return f"Claude has no model called “{engine.model}” (404). Check the model in the settings."
        case "too_large":
            return (
                "The source is too large for one request to Claude (413). Shorten it and try again."
            )
        case "bad_request":
            detail = f": {f.detail}" if f.detail else "."
            return f"Claude refused the request ({status or 400}){detail}"
        case _:
            return "Something went wrong while talking to Claude."


def _reason(f: _Failure, tries: int, engine: ClaudeEngine) -> str:
    if f.kind in _PERMANENT:
        return _what(f, engine)
    return f"{_what(f, engine)} {_tries(tries)}"


# --- the engine ---------------------------------------------------------------------------


@dataclass
class _Primer:
    created: float
    started: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _LoopState:
    client: anthropic.AsyncAnthropic
    semaphore: asyncio.Semaphore
    primers: dict[str, _Primer] = field(default_factory=dict)


_PRIMER_TTL = 240.0  # seconds; Claude keeps an ephemeral cache entry for 5 minutes

# Claude Sonnet 5.5 thinks before it answers unless a request says otherwise. A post is a
# short rewrite of a document the request holds in full: thinking first would leave the
# card empty for seconds and spend max_tokens (thinking counts toward it) for little gain,
# so such models are asked to answer straight away. "between_tools" turns off up-front
# thinking (these requests have no tools). Keyed by ``pricing.family``.
_THINKING: dict[str, dict[str, str]] = {"claude-sonnet-5-5": {"type": "between_tools"}}


class ClaudeEngine:
    """Streams one platform's variant from Claude. See the module docstring."""

    name = "claude"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        prime_cache: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        settings = settings or get_settings()
        secret = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
        if not secret:
            raise ValueError("The Claude engine needs an Anthropic API key.")
        self.base_url = check_base_url(
            settings.anthropic_base_url,
            allow_loopback_http=settings.allow_loopback_http_ai,
        ).rstrip("/")
        self.__api_key = secret
        self.model = settings.claude_model
        self.max_tokens = int(settings.claude_max_tokens)
        self.concurrency = max(1, int(settings.claude_concurrency))
        self.timeout = float(settings.claude_timeout_seconds)
        self.max_retries = max(0, int(settings.claude_max_retries))
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.prime_cache = prime_cache
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )
        # An unknown model is priced (and its cache minimum taken) as the default; pricing logs it.
        self._min_cache_tokens = pricing.price_for(self.model)[0].min_cache_tokens
        thinking = _THINKING.get(pricing.family(self.model) or "")
        self._extra: dict[str, dict[str, str]] = {"thinking": thinking} if thinking else {}

    def __repr__(self) -> str:
        return f"ClaudeEngine(model={self.model!r}, base_url={self.base_url!r})"

    # --- per event loop: the HTTP client, the concurrency limit, cache primers -----------

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            client = anthropic.AsyncAnthropic(
                api_key=self.__api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.timeout,
            )
            state = _LoopState(client=client, semaphore=asyncio.Semaphore(self.concurrency))
            self._states[loop] = state
        return state

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop."""
        loop = asyncio.get_running_loop()
        state = self._states.pop(loop, None)
        if state is not None:
            await state.client.close()

    # --- the stream ---------------------------------------------------------------------

    async def stream(
        self,
        source: Source,
        platform: str,
        options: Options,
        *,
        feedback: str | None = None,
    ) -> AsyncIterator[Event]:
        try:
            prompt = prompting.build(source, platform, options, feedback)
        except pf.UnknownPlatform:
            yield Failed(reason=f"There is no platform called “{platform}”.", retryable=False)
            return
        queue: asyncio.Queue[Event] = asyncio.Queue()
        task = asyncio.create_task(self._run(prompt, platform, queue.put_nowait))
        try:
            while True:
                event = await queue.get()
                yield event
                if isinstance(event, Done | Failed):
                    return
        finally:
            if not task.done():
                task.cancel()

    async def _run(self, prompt: prompting.Prompt, platform: str, emit: Callable) -> None:
        usage = Usage()
        try:
            emit(await self._generate(prompt, platform, emit, usage))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Claude engine error on %s", platform)
            emit(
                Failed(
                    reason="Something went wrong while talking to Claude.",
                    retryable=True,
                    usage=pricing.with_cost(self.model, usage),
                )
            )

    async def _wait_for_primer(self, state: _LoopState, prompt: prompting.Prompt) -> _Primer | None:
        """Let the first request of a source write the prompt cache before the others go.
        Returns the primer this request must release, if it is the first."""
        shared = prompt.prefix
        if not self.prime_cache or len(shared) / 4 < self._min_cache_tokens:
            return None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for key in [k for k, p in state.primers.items() if now - p.created > _PRIMER_TTL]:
            del state.primers[key]
        key = hashlib.sha256(f"{self.model}\n{shared}".encode()).hexdigest()
        primer = state.primers.get(key)
        if primer is None:
            primer = state.primers[key] = _Primer(created=now)
            return primer
        if not primer.started.is_set():
            try:
                await asyncio.wait_for(primer.started.wait(), timeout=self.timeout)
            except TimeoutError:
                pass
        return None

    def _backoff(self, attempt: int, failure: _Failure) -> float:
        if failure.retry_after is not None:
            return failure.retry_after * (1 + 0.1 * self._rng.random())
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    async def _generate(
        self, prompt: prompting.Prompt, platform: str, emit: Callable, usage: Usage
    ) -> Done | Failed:
        state = self._state()
        primer = await self._wait_for_primer(state, prompt)
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    async with state.semaphore:
                        try:
                            async with asyncio.timeout(self.timeout):
                                text, stop_reason, model = await self._attempt(
                                    state.client, prompt, emit, usage, primer
                                )
                        except TimeoutError:
                            raise _Failure("timeout", True) from None
                except Exception as exc:
                    failure = _classify(exc)
                    if failure.kind == "unexpected":
                        log.error("Claude request failed: %s", failure.detail)
                    else:
                        log.info(
                            "Claude request failed (%s, status %s) on try %d",
                            failure.kind,
                            failure.status,
                            attempt,
                        )
                    if primer is not None:
                        primer.started.set()
                        primer = None
                    if not failure.retryable or attempt > self.max_retries:
                        return self._failed(failure, attempt, usage)
                    wait = self._backoff(attempt, failure)
                    if wait > self.timeout:
                        return self._failed(failure, attempt, usage)
                    emit(
                        Retry(
                            attempt=attempt,
                            wait_seconds=round(wait, 3),
                            reason=_what(failure, self),
                        )
                    )
                    await asyncio.sleep(wait)
                    continue
                return self._finish(platform, text, stop_reason, model, usage)
        finally:
            if primer is not None:
                primer.started.set()

    def _failed(self, failure: _Failure, tries: int, usage: Usage) -> Failed:
        return Failed(
            reason=_reason(failure, tries, self),
            retryable=failure.kind not in _PERMANENT,
            usage=pricing.with_cost(self.model, usage),
        )

    def _finish(
        self, platform: str, text: str, stop_reason: str | None, model: str, usage: Usage
    ) -> Done | Failed:
        priced = pricing.with_cost(model or self.model, usage)
        if stop_reason == "max_tokens":
            return Failed(
                reason=(
                    f"The answer was cut off at the {self.max_tokens:,}-token limit before it "
                    "was complete."
                ),
                retryable=True,
                usage=priced,
            )
        if stop_reason == "refusal":
            return Failed(
                reason="Claude declined to write this post.", retryable=False, usage=priced
            )
        try:
            variant = prompting.parse(platform, text)
        except prompting.ParseError as exc:
            return Failed(
                reason=f"The answer could not be read: {exc}.", retryable=True, usage=priced
            )
        return Done(variant=variant, raw=text, usage=priced, model=model or self.model)

    async def _attempt(
        self,
        client: anthropic.AsyncAnthropic,
        prompt: prompting.Prompt,
        emit: Callable,
        usage: Usage,
        primer: _Primer | None,
    ) -> tuple[str, str | None, str]:
        """One request. Adds its usage to ``usage`` even when it fails half way."""
        parts: list[str] = []
        stop_reason: str | None = None
        model = self.model
        stopped = False
        counted = Usage()
        try:
            stream = await client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=prompt.system,
                messages=prompt.messages,
                stream=True,
                **self._extra,
            )
            try:
                async with stream:
                    async for event in stream:
                        kind = event.type
                        if kind == "message_start":
                            u = event.message.usage
                            counted.input_tokens = u.input_tokens or 0
                            counted.cache_creation_input_tokens = u.cache_creation_input_tokens or 0
                            counted.cache_read_input_tokens = u.cache_read_input_tokens or 0
                            counted.output_tokens = u.output_tokens or 0
                            model = event.message.model or model
                            if primer is not None:
                                primer.started.set()
                        elif kind == "content_block_delta":
                            if event.delta.type == "text_delta" and event.delta.text:
                                parts.append(event.delta.text)
                                emit(Delta(event.delta.text))
                        elif kind == "message_delta":
                            stop_reason = event.delta.stop_reason
                            u = event.usage
                            counted.output_tokens = u.output_tokens or counted.output_tokens
                            if u.input_tokens is not None:
                                counted.input_tokens = u.input_tokens
                            if u.cache_creation_input_tokens is not None:
                                counted.cache_creation_input_tokens = u.cache_creation_input_tokens
                            if u.cache_read_input_tokens is not None:
                                counted.cache_read_input_tokens = u.cache_read_input_tokens
                        elif kind == "message_stop":
                            stopped = True
            except (anthropic.APIConnectionError, httpx.TransportError, httpx2.TransportError) as exc:
                # the answer had begun: whatever the client calls it, the connection dropped
                raise _Failure("dropped", True) from exc
            if not stopped:
                raise _Failure("dropped", True)
        finally:
            usage.input_tokens += counted.input_tokens
            usage.output_tokens += counted.output_tokens
            usage.cache_creation_input_tokens += counted.cache_creation_input_tokens
            usage.cache_read_input_tokens += counted.cache_read_input_tokens
        return "".join(parts), stop_reason, model
