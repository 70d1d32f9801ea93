"""A workspace on a plan with the API, a key for it, and a teammate."""

from __future__ import annotations

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.models import Workspace
from omnipostr.api import keys
from tests.accounts.helpers import actor_for, link_token, sign_up


def on_plan(actor: accounts.Actor, plan: str = "pro") -> None:
    with db.session() as s:
        ws = s.get(Workspace, actor.workspace_id)
        ws.plan = plan
        s.add(ws)
        s.commit()


def owner(email: str = "ada@example.com", plan: str = "pro", team: str = "Analytical Engines") -> accounts.Actor:
    user = sign_up(email=email, name=email.split("@")[0].title(), team=team)
    actor = actor_for(user.id)
    on_plan(actor, plan)
    return actor


def key_for(actor: accounts.Actor, scopes=("generations:read", "generations:write"), name: str = "Our CMS") -> str:
    _, whole = db.in_session(keys.create_key, actor, name, list(scopes))
    return whole


def teammate(owner_actor: accounts.Actor, email: str = "bob@example.com", role: str = "member") -> accounts.Actor:
    db.in_session(accounts.invite_member, owner_actor, email, role)
    token = link_token(email, "invite")
    user = sign_up(email=email, name=email.split("@")[0].title(), team="Own team")
    with db.session() as s:  # a session of theirs that acts in the workspace they joined
        session_token, row = accounts.start_session(s, s.get(accounts.User, user.id), accounts.ClientInfo())
        accounts.accept_invite(s, user.id, token, row.id)
        s.commit()
    actor = actor_for(user.id, session_token)
    assert actor.workspace_id == owner_actor.workspace_id
    return actor
