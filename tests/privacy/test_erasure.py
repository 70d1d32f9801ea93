"""Deleting an account: with the password, workspaces handed over or deleted as chosen,
signed out at once, erased by a job that resumes after a crash, and no row left that refers
to the person, in any table."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from omnipostr import db
from omnipostr import tables as _tables  # noqa: F401
from omnipostr.accounts import service as accounts
from omnipostr.accounts.models import AuthSession, Membership, User, Workspace
from omnipostr.crypto import email_index
from omnipostr.notify.models import OutboxMessage
from omnipostr.privacy import erasure, inventory, service
from omnipostr.repurpose.models import Generation, Source
from tests.accounts.helpers import PASSWORD, actor_for, mails
from tests.privacy.test_export import seeded


def referring_rows(s, user_id: int, email: str) -> dict[str, int]:
    """Rows in any table that still refer to the user (by id, or by address)."""
    out = {}
    for t in SQLModel.metadata.sorted_tables:
        for c in t.columns:
            if any(fk.column.table.name == "users" for fk in c.foreign_keys) or (t.name == "users" and c.name == "id"):
                n = s.exec(sa_select(func.count()).select_from(t).where(c == user_id)).one()[0]
                if n:
                    out[f"{t.name}.{c.name}"] = n
    idx = email_index(email)
    if n := len(s.exec(select(OutboxMessage).where(OutboxMessage.to_index == idx, OutboxMessage.kind != "notice")).all()):
        out["outbox_messages.to_index"] = n
    stand_in = User(id=user_id, name="", email=email)
    for h in inventory.holdings():
        if h.table not in ("outbox_messages",) and (rows := h.rows(s, stand_in)):
            out[f"inventory:{h.table}"] = len(rows)
    return out


@pytest.mark.promise("RGT-3")
async def test_deleting_an_account_erases_every_row_about_the_person_and_resumes_after_a_crash():
    ada, bob = await seeded()  # Bob is a member of Ada's workspace, with a post of his in it
    db.in_session(service.request_export, ada.user_id)
    db.in_session(service.build_pending)
    assert db.in_session(erasure.plan, ada.user_id).shared[0].members == [(bob.user_id, "Bob")]

    # a wrong password, or no choice for the shared workspace, is refused and changes nothing
    with pytest.raises(erasure.DeletionRefused, match="password"):
        db.in_session(erasure.request_deletion, ada.user_id, password="nope", hand_over={ada.workspace_id: bob.user_id})
    with pytest.raises(erasure.DeletionRefused, match="Choose who takes over"):
        db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD)
    db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD, hand_over={ada.workspace_id: bob.user_id})

    # signed out at once, and refused at sign-in, before the job has run
    with db.session() as s:
        assert all(r.revoked_at for r in s.exec(select(AuthSession).where(AuthSession.user_id == ada.user_id)))
        assert accounts.resolve_session_ref(s, s.exec(select(AuthSession.token_hash).where(AuthSession.user_id == ada.user_id)).first()) is None
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(s, "ada@example.com", PASSWORD)

    # the process dies after three steps; the next run finishes the job
    assert db.in_session(erasure.erase_account, ada.user_id, max_steps=3) is False
    with db.session() as s:
        assert s.get(User, ada.user_id) is not None
    assert db.in_session(erasure.erase_pending) == 1
    with db.session() as s:
        assert referring_rows(s, ada.user_id, "ada@example.com") == {}
        # the workspace went to Bob, with the posts Ada wrote there, now without her name
        ws = s.get(Workspace, ada.workspace_id)
        assert ws.owner_id == bob.user_id
        assert s.exec(select(Membership).where(Membership.workspace_id == ws.id)).one().role == "owner"
        assert {g.title for g in s.exec(select(Generation).where(Generation.workspace_id == ws.id))} == {"Small teams", "Harbour crane"}
        assert s.exec(select(Source).where(Source.created_by == bob.user_id)).all()  # Bob's own rows untouched
    assert [m.subject for m in mails("ada@example.com")][-1] == "Your OmniPostr account is deleted"
    assert db.in_session(erasure.erase_pending) == 0  # nothing left to do


async def test_an_owned_workspace_can_be_deleted_with_everything_in_it_instead_of_handed_over():
    ada, bob = await seeded()
    db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD, hand_over={ada.workspace_id: None})
    db.in_session(erasure.erase_pending)
    with db.session() as s:
        assert s.get(Workspace, ada.workspace_id) is None
        assert s.exec(select(Generation).where(Generation.workspace_id == ada.workspace_id)).all() == []
        assert s.get(User, bob.user_id) is not None and referring_rows(s, ada.user_id, "ada@example.com") == {}
    # Bob still works in his own workspace
    assert actor_for(bob.user_id).workspace_id != ada.workspace_id
