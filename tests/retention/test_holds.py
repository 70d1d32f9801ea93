"""Legal holds (SHR-2): only an admin places or releases one, with a reason; while it lasts
no retention job and no erasure touches the account or its data; after the release they
resume; the table keeps the record of both."""

from __future__ import annotations

import pytest
from sqlmodel import select

from omnipostr import db, jobs
from omnipostr.accounts.models import User
from omnipostr.privacy import erasure
from omnipostr.repurpose.models import Generation
from omnipostr.retention import holds, service
from omnipostr.retention.models import LegalHold
from omnipostr.usage import service as usage
from tests.accounts.helpers import PASSWORD, mails
from tests.privacy.test_export import seeded
from tests.repurpose.helpers import member
from tests.retention.helpers import admin, days, generated, raw

JOBS = [
    "retention.source_text", "retention.history", "retention.account_warnings", "retention.sessions",
    "retention.tokens", "retention.invites", "retention.login_failures", "retention.usage_events",
    "privacy.inactive_accounts", "privacy.erasure",
]


def run_every_job() -> dict[str, int | None]:
    out = {}
    for name in JOBS:
        result = jobs.run_now(name, session_factory=db.session)
        assert result.outcome == "ok", result.error
        out[name] = result.items
    return out


def what_is_left(user_id: int) -> dict[str, int]:
    return {
        "source_text": raw("SELECT count(*) FROM sources WHERE created_by = :u AND text IS NOT NULL", u=user_id)[0][0],
        "history": raw("SELECT count(*) FROM generations WHERE created_by = :u AND history_purged_at IS NULL",
                       u=user_id)[0][0],
        "sessions": raw("SELECT count(*) FROM sessions WHERE user_id = :u", u=user_id)[0][0],
        "tokens": raw("SELECT count(*) FROM auth_tokens WHERE user_id = :u", u=user_id)[0][0],
        "usage": raw("SELECT count(*) FROM usage_events WHERE user_id = :u", u=user_id)[0][0],
        "account": raw("SELECT count(*) FROM users WHERE id = :u", u=user_id)[0][0],
    }


async def _with_content(email: str, team: str):
    who = member(email, team, analytics=True)
    await generated(who)
    with db.session() as s:
        usage.record(s, "feature.copy", workspace_id=who.workspace_id, user_id=who.user_id)
    return who


@pytest.mark.promise("SHR-2")
async def test_a_held_account_survives_every_purge_and_its_deletion_until_the_hold_is_released():
    ada = await _with_content("ada@example.com", "Analytical Engines")
    carol = await _with_content("carol@example.com", "Carol Co")  # not held: shows the jobs did run
    dana = admin()

    with pytest.raises(holds.HoldRefused, match="Only an admin"), db.session() as s:
        holds.place(s, carol.user_id, ada.user_id, "I do not like Ada")
    with pytest.raises(holds.HoldRefused, match="Say why"), db.session() as s:
        holds.place(s, dana, ada.user_id, "  ")
    with db.session() as s:
        hold = holds.place(s, dana, ada.user_id, "Litigation hold: Engines v. Babbage, case 24-117")
    assert raw("SELECT count(*) FROM legal_holds WHERE reason LIKE '%Babbage%'") == [(0,)]  # encrypted

    # Ada asks to delete her account: the request is taken, the erasure waits for the hold
    db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD)
    assert db.in_session(erasure.erase_pending) == 0
    assert db.in_session(erasure.erase_account, ada.user_id) is False

    kept = what_is_left(ada.user_id)
    assert all(kept.values()), kept
    days(500)  # every period has passed
    counts = db.in_session(service.purge_source_text, dry_run=True)
    assert (counts.count, counts.held) == (1, 1)
    done = run_every_job()
    assert done["retention.source_text"] == 1 and done["retention.history"] == 1  # Carol's
    assert what_is_left(ada.user_id) == kept
    assert what_is_left(carol.user_id)["source_text"] == 0 and what_is_left(carol.user_id)["usage"] == 0
    with db.session() as s:
        assert s.get(Generation, s.exec(select(Generation.id).where(Generation.created_by == ada.user_id)).one()).model
        assert {d.when for d in service.due_dates(s, ada.user_id)} == {None}
        assert {d.why for d in service.due_dates(s, ada.user_id)} == {service.HELD}

    # released: the jobs take up her data on their next run, and the erasure she asked for
    with pytest.raises(holds.HoldRefused), db.session() as s:
        holds.release(s, carol.user_id, hold.id)
    with db.session() as s:
        holds.release(s, dana, hold.id, "Case settled")
    run_every_job()
    assert what_is_left(ada.user_id) == {k: 0 for k in kept}
    assert [m.subject for m in mails("ada@example.com")][-1] == "Your OmniPostr account is deleted"

    # the record stays, without the link to the erased account
    with db.session() as s:
        row = s.get(LegalHold, hold.id)
        assert (row.user_id, row.placed_by, row.released_by) == (None, dana, dana)
        assert row.reason.startswith("Litigation hold") and row.release_reason == "Case settled"
        events = holds.events(s)
    assert [(e.action, e.actor_id, e.hold_id) for e in events] == [("placed", dana, hold.id), ("released", dana, hold.id)]
    assert events[0].at < events[1].at


@pytest.mark.promise("SHR-2")
async def test_an_unused_held_account_is_not_warned_nor_deleted_and_is_after_the_release():
    ada = member()
    dana = admin()
    with db.session() as s:
        hold = holds.place(s, dana, ada.user_id, "Preservation request from the regulator")
    days(460)  # unused for 365 days + 90 + a few
    assert db.in_session(service.warn_inactive_accounts).held == 1
    assert db.in_session(erasure.expire_inactive).count == 0
    with db.session() as s:
        assert s.get(User, ada.user_id) is not None
        holds.release(s, dana, hold.id)
    # after the release: warned now, deleted no sooner than 14 days after the warning
    assert db.in_session(service.warn_inactive_accounts).count == 1
    days(13)
    assert db.in_session(erasure.expire_inactive).count == 0
    days(2)
    assert db.in_session(erasure.expire_inactive).count == 1
    db.in_session(erasure.erase_pending)
    assert raw("SELECT count(*) FROM users WHERE id = :u", u=ada.user_id) == [(0,)]


async def test_a_workspace_holding_a_held_members_data_is_not_erased_with_its_owner():
    ada, bob = await seeded()  # Bob has a post in Ada's workspace
    dana = admin()
    with db.session() as s:
        hold = holds.place(s, dana, bob.user_id, "Litigation hold")
    db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD, hand_over={ada.workspace_id: None})
    assert db.in_session(erasure.erase_pending) == 0
    with db.session() as s:
        assert holds.blocks_erasure(s, ada.user_id).startswith("A workspace of the account")
        holds.release(s, dana, hold.id)
    assert db.in_session(erasure.erase_pending) == 1


def test_an_account_can_carry_several_holds_and_stays_held_until_each_is_released():
    ada = member()
    dana = admin()
    with db.session() as s:
        first = holds.place(s, dana, ada.user_id, "Matter one")
        second = holds.place(s, dana, ada.user_id, "Matter two")
        holds.release(s, dana, first.id)
        assert holds.is_held(s, ada.user_id)
        holds.release(s, dana, second.id)
        holds.release(s, dana, second.id)  # again: nothing changes
        assert not holds.is_held(s, ada.user_id)
        assert [h.released_by for h in holds.history(s, ada.user_id)] == [dana, dana]


def test_holds_are_in_the_audit_log_for_the_admin_not_in_the_held_persons_activity():
    from omnipostr.audit import service as audit
    from omnipostr.audit.models import AuditEvent

    dana, ada = admin(), member().user_id
    with db.session() as s:
        hold = holds.place(s, dana, ada, "Litigation 2026-17")
        holds.release(s, dana, hold.id, "Settled")
        s.commit()
        rows = s.exec(select(AuditEvent).where(AuditEvent.actor_id == dana).order_by(AuditEvent.id)).all()
        assert [(r.kind, r.target) for r in rows if r.kind.startswith("legal_hold")] == [
            ("legal_hold_set", f"user:{ada}"), ("legal_hold_released", f"user:{ada}")]
        assert not [e for e in audit.recent_for_user(s, ada) if e.kind.startswith("legal_hold")]


async def test_the_library_says_a_held_original_is_kept_for_a_legal_reason():
    from omnipostr.library import service as library

    dana, ada = admin(), member()
    gen = await generated(ada)
    with db.session() as s:
        holds.place(s, dana, ada.user_id, "Litigation 2026-17")
        s.commit()
    assert db.in_session(library.source_note, ada, gen.id) == (
        "The original text is kept for now: we must keep it for a legal reason."
    )
