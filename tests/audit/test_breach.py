"""Breach response (BRC-1): an admin records an incident in the register, picks the accounts
it affected (by id, by workspace, or all) and sends them the notice. Exactly those people get
it, through the outbox and the real SMTP transport, each once however often it is sent; anyone
but an admin is refused; the register keeps the incident with its times and the 72-hour clock
for telling the supervisory authority."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from omnipostr import clock, db
from omnipostr.accounts.models import User
from omnipostr.audit.models import AuditEvent
from omnipostr.breach import service as breach
from omnipostr.breach.__main__ import main as cli
from omnipostr.breach.models import Incident, IncidentRecipient
from omnipostr.notify import service as outbox
from omnipostr.privacy import erasure
from tests.accounts.helpers import PASSWORD, mails, sign_up
from tests.repurpose.helpers import member

SUBJECT = "security incident"


def admin() -> int:
    user = sign_up(email="dpo@omnipostr.com", name="Dana Admin", team="OmniPostr")
    with db.session() as s:
        row = s.get(User, user.id)
        row.is_admin = True
        s.add(row)
        s.commit()
    return user.id


def record(by: int, **kw) -> Incident:
    args = {
        "summary": "A misconfigured backup bucket was readable from the internet for six hours.",
        "discovered_at": clock.now() - timedelta(hours=2),
        "occurred_at": clock.now() - timedelta(hours=10),
        "data_categories": ["account", "device"],
        "consequences": "Someone may have your name and email address, and could send you phishing email.",
        "measures": "We closed the bucket, rotated the keys and checked its access logs.",
        "advice": "Be wary of email asking for your password; we never ask for it.",
    } | kw
    return db.in_session(breach.record_incident, by=by, **args)


def notices(to: str | None = None):
    return mails(to, "breach_notice")


@pytest.mark.promise("BRC-1")
def test_the_notice_reaches_exactly_the_chosen_accounts_once_each_through_smtp(sink, smtp):
    dana = admin()
    ada = member("ada@example.com", "Engines")
    bob = member("bob@example.com", "Bob's")
    cy = member("cy@example.com", "Cy's")
    incident = record(dana)

    assert db.in_session(breach.select_affected, incident.id, by=dana, user_ids=[ada.user_id]) == 1
    assert db.in_session(breach.select_affected, incident.id, by=dana, workspace_id=bob.workspace_id) == 1
    report = db.in_session(breach.send_notice, incident.id, by=dana)
    assert (report.queued, report.already, report.skipped) == (2, 0, 0)
    assert sorted(m.to_address for m in notices()) == ["ada@example.com", "bob@example.com"]
    assert notices("cy@example.com") == [] and notices("dpo@omnipostr.com") == []

    body = notices("ada@example.com")[0].text_body
    for said in ("misconfigured backup bucket", "Account", "Sessions and devices", "phishing email",
                 "rotated the keys", "we never ask for it", "privacy@omnipostr.com", f"incident {incident.id}"):
        assert said in body

    # sent again, and a chosen account chosen again: nobody is mailed twice
    assert db.in_session(breach.select_affected, incident.id, by=dana, user_ids=[ada.user_id, bob.user_id]) == 0
    again = db.in_session(breach.send_notice, incident.id, by=dana)
    assert (again.queued, again.already) == (0, 2)
    assert len(notices()) == 2

    # through the real SMTP transport, to the sink: exactly those two addresses
    outbox.send_due(db.session, transport=smtp)
    got = [m for m in sink.messages if SUBJECT in m["Subject"]]
    assert sorted(m["To"] for m in got) == ["ada@example.com", "bob@example.com"]
    assert "rotated the keys" in got[0].get_body(("plain",)).get_content()

    # everyone: only Cy and Dana are new
    assert db.in_session(breach.select_affected, incident.id, by=dana, everyone=True) == 2
    assert db.in_session(breach.send_notice, incident.id, by=dana).queued == 2
    outbox.send_due(db.session, transport=smtp)
    got = [m for m in sink.messages if SUBJECT in m["Subject"]]
    assert sorted(m["To"] for m in got) == ["ada@example.com", "bob@example.com", "cy@example.com", "dpo@omnipostr.com"]
    assert db.in_session(breach.notified_users, incident.id, by=dana) == sorted([ada.user_id, bob.user_id, cy.user_id, dana])


@pytest.mark.promise("BRC-1")
def test_only_an_admin_can_record_choose_or_send():
    dana = admin()
    ada = member("ada@example.com")
    with pytest.raises(breach.NotAllowed):
        record(ada.user_id)
    incident = record(dana)
    with pytest.raises(breach.NotAllowed):
        db.in_session(breach.select_affected, incident.id, by=ada.user_id, everyone=True)
    with pytest.raises(breach.NotAllowed):
        db.in_session(breach.send_notice, incident.id, by=ada.user_id)
    with pytest.raises(breach.NotAllowed):
        db.in_session(breach.register, by=ada.user_id)
    with pytest.raises(breach.NotAllowed):
        db.in_session(breach.authority_notified, incident.id, by=ada.user_id)
    assert notices() == []
    with db.session() as s:
        assert s.exec(select(IncidentRecipient)).all() == []
    # and bad input says what is wrong
    with pytest.raises(breach.BreachError, match="kinds of data"):
        record(dana, data_categories=["gossip"])
    with pytest.raises(breach.BreachError, match="No account"):
        db.in_session(breach.select_affected, incident.id, by=dana, user_ids=[999_999])
    with pytest.raises(breach.BreachError, match="Choose"):
        db.in_session(breach.select_affected, incident.id, by=dana)


@pytest.mark.promise("BRC-1")
def test_the_register_keeps_the_incident_with_its_times_and_the_72_hour_clock():
    dana = admin()
    ada = member("ada@example.com")
    discovered = clock.now() - timedelta(hours=2)
    incident = record(dana, discovered_at=discovered)
    view = db.in_session(breach.get_incident, incident.id, by=dana)
    i = view.incident
    assert i.discovered_at == discovered and i.created_by_id == dana and i.authority_notified_at is None
    assert i.authority_deadline == discovered + timedelta(hours=72)
    assert timedelta(hours=69) < i.authority_time_left <= timedelta(hours=70) and i.authority_late_by == timedelta(0)
    assert "left to tell the authority" in view.authority_status

    clock.advance(timedelta(hours=80))  # the authority was not told in time
    view = db.in_session(breach.get_incident, incident.id, by=dana)
    assert timedelta(hours=10) <= view.incident.authority_late_by < timedelta(hours=10, minutes=1)
    assert "overdue" in view.authority_status
    db.in_session(breach.authority_notified, incident.id, by=dana)
    clock.advance(timedelta(days=30))
    view = db.in_session(breach.get_incident, incident.id, by=dana)
    assert timedelta(hours=10) <= view.incident.authority_late_by < timedelta(hours=10, minutes=1)  # fixed when told
    assert "late" in view.authority_status

    # the register keeps it: never deleted, and it outlives an affected account's erasure
    db.in_session(breach.select_affected, incident.id, by=dana, user_ids=[ada.user_id])
    db.in_session(breach.send_notice, incident.id, by=dana)
    with db.session() as s:
        s.delete(s.get(Incident, incident.id))
        with pytest.raises(ValueError, match="never deleted"):
            s.flush()
        s.rollback()
    db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD, hand_over={})
    db.in_session(erasure.erase_pending)
    view = db.in_session(breach.get_incident, incident.id, by=dana)
    assert (view.affected, view.notified) == (1, 1)
    assert [v.incident.id for v in db.in_session(breach.register, by=dana)] == [incident.id]
    with db.session() as s:
        steps = s.exec(select(AuditEvent.kind).where(AuditEvent.target == f"incident:{incident.id}").order_by(col(AuditEvent.id))).all()
    assert steps == ["incident_recorded", "authority_notified", "incident_accounts_selected", "breach_notice_sent"]


@pytest.mark.promise("BRC-1")
def test_operators_record_and_notify_from_the_command_line(capsys):
    admin()
    ada = member("ada@example.com")
    member("bob@example.com")
    when = (clock.now() - timedelta(hours=1)).isoformat()
    assert cli(["record", "--admin", "dpo@omnipostr.com", "--summary", "A laptop with an export was stolen.",
                "--discovered", when, "--data", "account,content", "--consequences", "Your posts may be read.",
                "--measures", "We wiped it remotely.", "--advice", "Nothing to do."]) == 0
    out = capsys.readouterr().out
    incident_id = int(out.split(":")[0].split()[-1])
    assert "left to tell the authority" in out
    assert cli(["notify", str(incident_id), "--admin", "dpo@omnipostr.com", "--users", str(ada.user_id)]) == 0
    assert "1 notice(s) queued" in capsys.readouterr().out
    assert cli(["notify", str(incident_id), "--admin", "dpo@omnipostr.com"]) == 0
    assert "0 notice(s) queued, 1 had it already" in capsys.readouterr().out
    assert [m.to_address for m in notices()] == ["ada@example.com"]
    assert cli(["notify", str(incident_id), "--admin", "bob@example.com", "--all"]) == 2  # not an admin
    assert "Only an admin" in capsys.readouterr().err
    assert [m.to_address for m in notices()] == ["ada@example.com"]
