"""Authorisation by construction, proven over every event handler of every state.

Any client can send any event to any handler, with any arguments, and can set the public vars
of its own tab (Reflex's ``setvar``). So each attacker below gets a tab whose vars point at
the victim's generation, posts, voice and members, and sends every handler of every state
the victim's ids. Through none of them does a signed-out client, a revoked session, a member
removed from the workspace or a member of another workspace get anything of the victim's
(no marker in the tab's state or in what the handler sends back) or change anything of the
victim's workspace. Handlers that only move things within the tab run no SQL at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import typing
from pathlib import Path

import pytest
import reflex as rx
from sqlalchemy import event, text
from sqlmodel import SQLModel

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.guard import MEMBER, PUBLIC, TAB, kind_of
from omnipostr.api import keys as api_keys
from omnipostr.library import service as library
from omnipostr.repurpose import progress, queue, runner, service
from omnipostr.repurpose.engines.offline import OfflineEngine
from omnipostr.repurpose.models import Generation
from tests.accounts.helpers import PASSWORD, sign_up
from tests.repurpose.helpers import ARTICLE, request, start
from tests.state_harness import app_states, call, handlers, substate, tab

MARK = "Quokkafjord"  # in everything the victim and their workspace wrote


@dataclasses.dataclass
class World:
    victim: accounts.Actor
    workspace_id: int
    generation_id: int
    variant_ids: list[int]
    voice_id: int
    invite_id: int
    key_id: int
    attackers: dict[str, str | None]  # name -> session reference (None: signed out)
    member_ids: list[int]


def _session(user_id: int) -> str:
    with db.session() as s:
        token, _ = accounts.start_session(s, s.get(accounts.User, user_id), accounts.ClientInfo("198.51.100.4", "Firefox"))
    return token


def _join(owner: accounts.Actor, user_id: int, email: str) -> None:
    with db.session() as s:
        accounts.invite_member(s, owner, email)
    from tests.accounts.helpers import link_token

    db.in_session(accounts.accept_invite, user_id, link_token(email, "invite"))


async def _world() -> World:
    v = sign_up(email="vera@example.com", name=f"Vera {MARK}", team=f"Team {MARK}")
    victim = _actor(v.id)
    voice = db.in_session(service.save_voice, victim, name=f"Voice {MARK}", description=f"Sounds like {MARK}.", samples=[f"{MARK} sample"])
    with db.session() as s:  # a plan with the API, and a key of the victim's
        s.get(accounts.Workspace, victim.workspace_id).plan = "pro"
        s.commit()
    key, _ = db.in_session(api_keys.create_key, victim, f"Key {MARK}", ["generations:read"])
    text_ = f"{MARK} is the name of our new product.\n\n" + ARTICLE
    gen = start(victim, request(text=text_, title=f"Title {MARK}", audience=f"{MARK} fans", call_to_action=f"Try {MARK}"))
    await runner.run(gen.id, engine=OfflineEngine())
    variant_ids = [x.id for x in db.in_session(library.get_generation, victim, gen.id).variants]
    with db.session() as s:
        inv = accounts.invite_member(s, victim, f"{MARK.lower()}-invitee@example.com")

    # removed: joined the workspace, worked in it, then was removed (their session lives on)
    m = sign_up(email="mo@example.com", name="Mo", team="Mo's own")
    _join(victim, m.id, "mo@example.com")
    mo_token = _session(m.id)
    with db.session() as s:
        accounts.switch_workspace(s, accounts.resolve_session(s, mo_token).actor, victim.workspace_id)
    # revoked: a member whose session was revoked
    r = sign_up(email="rae@example.com", name="Rae", team="Rae's own")
    _join(victim, r.id, "rae@example.com")
    rae_token = _session(r.id)
    with db.session() as s:
        accounts.switch_workspace(s, accounts.resolve_session(s, rae_token).actor, victim.workspace_id)
        rae_session = accounts.resolve_session(s, rae_token).session.id
    db.in_session(accounts.revoke_session, r.id, rae_session)
    db.in_session(accounts.remove_member, victim, m.id)
    # stranger: signed in, in a workspace of their own
    x = sign_up(email="xan@example.com", name="Xan", team="Xan's own")
    xan_token = _session(x.id)
    # the victim's generation is also live, streaming a post
    with db.session() as s:
        live = s.get(Generation, gen.id)
        live.status = "running"
        s.add(live)
        queue.enqueue(s, gen.id, live.workspace_id)
    prog = progress.RunProgress(gen.id, {"x": progress.PlatformProgress("x", status="streaming", text=f"Live {MARK} text")})
    prog.touch()
    await progress.bus().publish(prog)
    return World(
        victim=victim, workspace_id=victim.workspace_id, generation_id=gen.id, variant_ids=variant_ids,
        voice_id=voice.id, invite_id=inv.id, key_id=key.id, member_ids=[v.id, m.id, r.id],
        attackers={
            "signed out": None,
            "revoked session": accounts.session_ref(rae_token),
            "removed member": accounts.session_ref(mo_token),
            "member of another workspace": accounts.session_ref(xan_token),
        },
    )


def _actor(user_id: int) -> accounts.Actor:
    from tests.accounts.helpers import actor_for

    return actor_for(user_id)


# --- what an attacker sends ----------------------------------------------------------------


def _form(w: World) -> dict:
    return {
        "q": "product", "name": "Hacked", "email": "vera@example.com", "password": PASSWORD, "password2": PASSWORD,
        "team": "Hacked", "age": "on", "policy": "on", "workspace_name": "Hacked", "invite_email": "evil@example.com",
        "invite_role": "admin", "voice_name": "Hacked", "voice_description": "Hacked", "voice_samples": "Hacked",
        "new_email": "evil@example.com", "current_password": PASSWORD, "new_password": "another long password 9",
        "new_password2": "another long password 9", "post-0": "Hacked", "field-title": "Hacked",
        "key_name": "Hacked", "scope_generations_read": "on", "scope_generations_write": "on",
    }


def _arg(w: World, name: str, hint) -> object:
    if name in ("variant_id",):
        return w.variant_ids[0]
    if name in ("voice_id",):
        return str(w.voice_id)
    if name in ("workspace_id",):
        return str(w.workspace_id)
    if name in ("invite_id",):
        return str(w.invite_id)
    if name == "key_id":
        return str(w.key_id)
    if name in ("user_id",):
        return str(w.member_ids[0])
    if name == "session_id":
        return "1"
    if name == "index":
        return 0
    if name == "form":
        return _form(w)
    if name == "files":
        return [rx.UploadFile(file=io.BytesIO(b"A short article about attacks.\n\nIt has two paragraphs."), path=Path("a.txt"))]
    if name in ("names", "codes"):
        return ["a.exe"]
    if name == "role":
        return "admin"
    if name == "platform":
        return "x"
    if name == "text":
        return "An attacker's text with enough words to be a source of a generation."
    if hint is bool:
        return True
    return "x"


def _kwargs(w: World, handler) -> dict:
    fn = handler.fn
    hints = typing.get_type_hints(fn) if hasattr(fn, "__annotations__") else {}
    import inspect

    params = list(inspect.signature(fn).parameters.values())[1:]
    return {p.name: _arg(w, p.name, hints.get(p.name)) for p in params}


def _aim_at_victim(state, w: World) -> None:
    """Set the tab's public vars as a client can (setvar): the victim's ids everywhere."""
    ids = {
        "generation_id": w.generation_id, "editing": w.variant_ids[0], "editing_id": str(w.voice_id),
        "voice_id": str(w.voice_id),
    }
    for name, value in ids.items():
        if name in type(state).vars and not name.startswith("_"):
            setattr(state, name, value)


# --- what counts as getting or changing something -----------------------------------------------


def _victim_rows(w: World) -> dict[str, list]:
    """Every row of the victim's workspace, its members and their users."""
    import omnipostr.tables  # noqa: F401

    out: dict[str, list] = {}
    with db.engine().connect() as c:
        for table in SQLModel.metadata.sorted_tables:
            cols = {col.name for col in table.columns}
            if "workspace_id" in cols:
                q = text(f'SELECT * FROM "{table.name}" WHERE workspace_id = :w ORDER BY 1')
                out[table.name] = [tuple(r) for r in c.execute(q, {"w": w.workspace_id})]
            elif table.name == "users":
                out[table.name] = [tuple(r) for r in c.execute(text("SELECT * FROM users WHERE id = :u"), {"u": w.member_ids[0]})]
            elif table.name == "workspaces":
                out[table.name] = [tuple(r) for r in c.execute(text("SELECT * FROM workspaces WHERE id = :w"), {"w": w.workspace_id})]
    out.pop("auth_sessions", None)  # an attacker's own session row may move to their own workspace
    return out


def _leaks(root, returned) -> list[str]:
    shown = json.dumps(root.dict(), default=str) + repr(returned)
    found = []
    for needle in (MARK, MARK.lower(), "Live " + MARK):
        if needle in shown:
            i = shown.index(needle)
            found.append(shown[max(0, i - 80) : i + 40])
    return found


class SqlCounter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, *args) -> None:
        self.n += 1


# --- the tests -----------------------------------------------------------------------------------


def test_every_handler_of_every_state_declares_its_kind():
    undeclared = []
    for cls in app_states():
        for name, handler in handlers(cls):
            if kind_of(handler) not in (MEMBER, PUBLIC, TAB):
                undeclared.append(f"{cls.__name__}.{name}")
    assert undeclared == [], "write these with accounts.guard's decorators: " + ", ".join(undeclared)
    kinds = {kind_of(h) for cls in app_states() for _, h in handlers(cls)}
    assert kinds == {MEMBER, PUBLIC, TAB}


PAGES = {
    "GenerationState": "/library/{g}", "LibraryState": "/library", "ComposerState": "/app",
    "InviteState": "/invite", "VoicesState": "/settings/voices", "ApiKeysState": "/settings/api",
}


@pytest.mark.promise("ACC-3")
async def test_signed_out_revoked_removed_and_foreign_members_get_nothing_and_change_nothing():
    w = await _world()
    before = _victim_rows(w)
    counter = SqlCounter()
    event.listen(db.engine(), "before_cursor_execute", counter)
    failures: list[str] = []
    calls = 0
    try:
        for attacker, ref in w.attackers.items():
            for cls in app_states():
                for name, handler in handlers(cls):
                    path = PAGES.get(cls.__name__, "/app").format(g=w.generation_id)
                    root = tab(ref, path, {"g": str(w.generation_id), "reuse": str(w.generation_id), "token": "x"})
                    state = substate(root, cls)
                    _aim_at_victim(state, w)
                    counter.n = 0
                    try:
                        returned = await asyncio.wait_for(call(state, handler, **_kwargs(w, handler)), 5)
                    except TimeoutError:
                        returned = []
                        failures.append(f"{attacker}: {cls.__name__}.{name} was still running after 5 s")
                    except Exception as e:  # a refusal may raise; it must not leak either
                        returned = [repr(e)]
                    calls += 1
                    where = f"{attacker}: {cls.__name__}.{name}"
                    if leaks := _leaks(root, returned):
                        failures.append(f"{where} showed {leaks}")
                    if kind_of(handler) == TAB and counter.n:
                        failures.append(f"{where} is a tab event but ran {counter.n} SQL statements")
                    if (after := _victim_rows(w)) != before:
                        changed = [t for t in after if after[t] != before.get(t)]
                        failures.append(f"{where} changed the victim's {changed}")
                        before = after
    finally:
        event.remove(db.engine(), "before_cursor_execute", counter)
    assert calls > 4 * 60
    assert failures == []


async def test_the_victim_still_sees_their_own_work_through_the_same_handlers():
    """The attack above fails for the right reason: the same calls work for the member."""
    w = await _world()
    token = _session(w.member_ids[0])
    from omnipostr.library.state import GenerationState

    root = tab(accounts.session_ref(token), f"/library/{w.generation_id}")
    state = substate(root, GenerationState)
    await call(state, GenerationState.event_handlers["load"])
    assert MARK in json.dumps(root.dict(), default=str)
    assert state.generation_id == w.generation_id and len(state.cards) == len(w.variant_ids)


async def test_a_page_following_a_run_is_cleared_when_its_session_is_revoked():
    w = await _world()
    token = _session(w.member_ids[0])
    from omnipostr.repurpose.state import ComposerState

    root = tab(accounts.session_ref(token), "/app", {"g": str(w.generation_id)})
    state = substate(root, ComposerState)
    await call(state, ComposerState.event_handlers["load"])
    assert state.generation_id == w.generation_id
    prog = await progress.bus().get(w.generation_id)

    async def revoke_soon():
        await asyncio.sleep(0.3)
        with db.session() as s:
            res = accounts.resolve_session(s, token)
            accounts.revoke_session(s, res.user.id, res.session.id)
        prog.platforms["x"].text += " more"
        prog.touch()
        await progress.bus().publish(prog)

    revoker = asyncio.create_task(revoke_soon())
    from omnipostr.repurpose.state import CardsState

    await asyncio.wait_for(call(substate(root, CardsState), CardsState.event_handlers["watch"]), 10)
    await revoker
    assert state.cards == [] and state.generation_id == 0
    assert MARK not in json.dumps(root.dict(), default=str)
