"""Run the app's Reflex event handlers in the test process, as the event endpoint would.

A tab is a root ``rx.State`` with the router data its event connection would give it (the
headers as ``accounts.session_header`` leaves them, the page's address). ``call`` runs one
handler with keyword arguments and returns everything it returned or yielded.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from reflex.state import BaseState, State

import omnipostr.omnipostr  # noqa: F401 - the app: registers every page and state
from omnipostr.accounts import session_header
from omnipostr.accounts.state import AppState

ORIGIN = "http://localhost:3000"


def app_states() -> list[type[BaseState]]:
    """Every state class of OmniPostr (``AppState`` and all below it)."""
    out: list[type[BaseState]] = []

    def walk(cls: type[BaseState]) -> None:
        out.append(cls)
        for sub in sorted(cls.get_substates(), key=lambda c: c.get_full_name()):
            walk(sub)

    walk(AppState)
    return out


def handlers(cls: type[BaseState]) -> Iterator[tuple[str, Any]]:
    """The event handlers a state declares itself (inherited ones belong to the parent)."""
    for name, handler in sorted(cls.event_handlers.items()):
        if name == "setvar":  # Reflex's own; covered by setting vars in the tab directly
            continue
        yield name, handler


def tab(session_ref: str | None = None, path: str = "/app", query: dict[str, str] | None = None) -> State:
    """A fresh tab signed in with ``session_ref`` (the reference of its session cookie)."""
    root = State(_reflex_internal_init=True)
    headers = {"origin": ORIGIN, "host": "localhost:3000", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"}
    if session_ref:
        headers[session_header.HEADER] = session_ref
    qs = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    root._update_router_vars(
        {
            "headers": headers,
            "pathname": path,
            "asPath": path + (f"?{qs}" if qs else ""),
            "query": dict(query or {}),
            "ip": "203.0.113.9",
            "token": "tab-token",
            "sid": "tab-sid",
        },
        {},
    )
    return root


def substate(root: State, cls: type[BaseState]) -> BaseState:
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def call(state: BaseState, handler, **kwargs) -> list[Any]:
    """Run ``handler`` (an EventHandler) on ``state``; everything it returned or yielded."""
    out: list[Any] = []
    result = handler.fn(state, **kwargs)
    if inspect.isasyncgen(result):
        async for item in result:
            out.append(item)
    elif inspect.iscoroutine(result):
        out.append(await result)
    elif inspect.isgenerator(result):
        out.extend(result)
    else:
        out.append(result)
    return [x for x in out if x is not None]
