"""The one way to write an event handler of OmniPostr's pages.

Any client can send any event to any handler of any state, with any arguments, and can set
any public var of its own tab's state (Reflex's ``setvar``). So no handler trusts its state
for who is acting, and each one says what it is by its decorator:

- ``@member_event``: reads or changes the workspace's data. Before the handler runs, the
  signed-in member is resolved from the session (never from the state) and handed to it as
  ``actor``; every service it calls filters by ``actor.workspace_id``. Signed out, a revoked
  session or an expired one: the page forgets what it showed and goes to sign-in. A member
  acting in a workspace other than the one the page shows (removed from it, or switched in
  another tab): the page forgets it and loads again. ``manager=True`` also asks for the
  owner or admin role. ``background=True`` makes a background handler; one that pushes for
  a while re-checks with ``_still_member`` at every push.
- ``@public_event``: a page that needs no account (sign-up, sign-in, reset, a link from an
  email). It receives no actor and reads nothing of a workspace.
- ``@tab_event``: moves things within the tab's own state (a text box, a toggle, a draft);
  it reads no database and starts no work, so it can show nothing the tab did not have.

``tests/accounts/test_guard.py`` enumerates every handler of every state: each has one of
these kinds, and a signed-out client, a revoked session and a removed member get nothing and
change nothing through any of them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import reflex as rx

KIND = "_omnipostr_event_kind"
MEMBER, PUBLIC, TAB = "member", "public", "tab"
MANAGERS_ONLY = "Only the workspace's owner and admins can do that."


def _mark(fn: Callable, kind: str, **extra: Any) -> Callable:
    setattr(fn, KIND, kind)
    for k, v in extra.items():
        setattr(fn, f"_omnipostr_{k}", v)
    return fn


def _without_actor(fn: Callable) -> inspect.Signature:
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if len(params) < 2 or params[1].name != "actor":
        raise TypeError(f"{fn.__qualname__}: a member event takes (self, actor, ...)")
    return sig.replace(parameters=[params[0], *params[2:]])


async def _admit(state, manager: bool, page: bool):
    """(actor, None) when the handler may run, else (None, the events to answer with)."""
    if page:  # entering a page: it shows whichever workspace the member acts in now
        res = await state._enter()
        actor = res.actor if res is not None else None
    else:
        actor = await state._actor()
    if actor is None:
        state._forget()
        return None, state._login_redirect()
    shown = getattr(state, "workspace_id", 0)
    if not page and shown and shown != actor.workspace_id:
        state._forget()
        return None, state._reload_page()
    if manager and not actor.can_manage:
        return None, rx.toast.error(MANAGERS_ONLY)
    return actor, None


def member_event(
    fn: Callable | None = None, *, manager: bool = False, background: bool = False, page: bool = False
):
    """Decorate ``async def handler(self, actor, ...)``: runs only for a signed-in member.
    ``page=True`` for a page's on_load: it also fills who is signed in, for the header."""

    def deco(fn: Callable) -> Any:
        sig = _without_actor(fn)
        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def wrapper(self, *args, **kwargs):
                actor, refusal = await _admit(self, manager, page)
                if actor is None:
                    if refusal is not None and not background:
                        yield refusal
                    return
                async for item in fn(self, actor, *args, **kwargs):
                    yield item

        elif inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def wrapper(self, *args, **kwargs):
                actor, refusal = await _admit(self, manager, page)
                if actor is None:
                    return None if background else refusal
                return await fn(self, actor, *args, **kwargs)

        else:
            raise TypeError(f"{fn.__qualname__}: a member event is async (it looks up the session)")
        wrapper.__signature__ = sig  # type: ignore[attr-defined]
        wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "actor"}
        _mark(wrapper, MEMBER, manager=manager, page=page)
        return rx.event(wrapper, background=background) if background else rx.event(wrapper)

    return deco(fn) if fn is not None else deco


def public_event(fn: Callable | None = None, *, background: bool = False):
    """A handler of a page that needs no account."""

    def deco(fn: Callable) -> Any:
        _mark(fn, PUBLIC)
        return rx.event(fn, background=background) if background else rx.event(fn)

    return deco(fn) if fn is not None else deco


def tab_event(fn: Callable) -> Any:
    """A handler that only moves things within the tab's own state (no database, no work)."""
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"{fn.__qualname__}: a tab event is plain (it awaits nothing)")
    return rx.event(_mark(fn, TAB))


def kind_of(handler) -> str:
    """The kind of a state's event handler (``EventHandler.fn``), or "" when undeclared."""
    return getattr(handler.fn, KIND, "")
