"""Privacy requests and questions: filed by anyone, confirmed by the session or a code sent to
the address, due 30 days (requests) or 5 business days (questions) after that, extended once
for a reason, closed with the requester told, and watched by a daily alert that fires once."""

from __future__ import annotations

import hmac
import json
import re
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from sqlalchemy import text
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts.models import User
from omnipostr.jobs import registry
from omnipostr.privacy import erasure, export, requests, routes
from omnipostr.privacy import tasks as _tasks  # noqa: F401 - registers the privacy jobs
from omnipostr.privacy.models import PrivacyRequest, PrivacyRequestEvent
from omnipostr.settings import get_settings
from tests.accounts.helpers import PASSWORD, mails, sign_up
from tests.privacy.test_erasure import referring_rows

VISITOR = "grace@example.org"
PRIVACY = "privacy@omnipostr.com"


def at(when: datetime) -> None:
    """Move the clock to ``when``."""
    clock.reset()
    clock.advance(when - clock.now())


def admin() -> int:
    user = sign_up(email="dpo@omnipostr.com", name="Dana Admin", team="OmniPostr")
    with db.session() as s:
        row = s.get(User, user.id)
        row.is_admin = True
        s.add(row)
        s.commit()
    return user.id


def code_for(address: str) -> str:
    body = mails(address, "privacy_request_code")[-1].text_body
    return re.search(r"^(\d{6})$", body, re.M).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def file(kind="access", email=VISITOR, details="", **kw) -> requests.RequestView:
    return db.in_session(requests.file_request, kind, email, details, **kw)


def alerts() -> list:
    return mails(PRIVACY, "notice")


# --- due dates ---------------------------------------------------------------------------------


@pytest.mark.promise("REQ-1")
def test_a_signed_in_users_request_opens_at_once_due_in_30_days_and_shows_in_the_queue_by_due_date():
    dana = admin()
    ada = sign_up()
    at(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    later = file("deletion", "ada@example.com", user_id=ada.id)  # her own confirmed address: no code
    at(datetime(2027, 2, 20, 9, 0, tzinfo=UTC))
    first = file("access", "Ada@Example.com ", user_id=ada.id)
    assert first.status == "open" and not first.needs_code and mails("ada@example.com", "privacy_request_code") == []
    assert first.due_at.date() == datetime(2027, 3, 22).date() and later.due_at.date() == datetime(2027, 3, 31).date()
    assert [h.actor for h in first.history] == ["requester", "requester"] and first.history[-1].status == "open"

    queue = db.in_session(requests.queue, by=dana)
    assert [r.id for r in queue] == [first.id, later.id]  # soonest due first
    # around the due date: a week before it is not overdue; on it and a week after it is
    for days, overdue in ((-7, False), (0, True), (7, True)):
        at(first.due_at + timedelta(days=days))
        assert db.in_session(requests.get_request, first.id, by=dana).overdue is overdue, days
    with pytest.raises(requests.NotAllowed):
        db.in_session(requests.queue, by=ada.id)  # a user is not the privacy team


@pytest.mark.promise("REQ-2")
@pytest.mark.parametrize(("filed", "due"), [
    (datetime(2027, 1, 7, 10, 0), datetime(2027, 1, 14, 10, 0)),  # Thursday -> next Thursday
    (datetime(2027, 1, 8, 19, 30), datetime(2027, 1, 15, 19, 30)),  # Friday evening -> next Friday
    (datetime(2027, 1, 9, 12, 0), datetime(2027, 1, 15, 12, 0)),  # Saturday -> Friday
    (datetime(2027, 1, 11, 8, 0), datetime(2027, 1, 18, 8, 0)),  # Monday -> next Monday
])
def test_a_privacy_question_is_due_five_business_days_after_it_is_confirmed_skipping_weekends(filed, due):
    filed, due = filed.replace(tzinfo=UTC), due.replace(tzinfo=UTC)
    assert requests.add_business_days(filed, 5) == due
    ada = sign_up()
    at(filed)
    q = file("inquiry", "ada@example.com", "Do you train AI on my posts?", user_id=ada.id)
    assert q.status == "open" and abs(q.due_at - due) < timedelta(seconds=5)
    ack = mails("ada@example.com", "notice")[-1]
    assert ack.subject == f"We received your privacy question (#{q.id})"
    assert f"{due:%A} {due.day} {due:%B %Y}" in ack.text_body and "within 5 business days" in ack.text_body
    # around its due date: not overdue a week before, overdue on it and after
    for days, overdue in ((-7, False), (0, True), (7, True)):
        at(q.due_at + timedelta(days=days))
        assert db.in_session(requests.requests_of, ada.id)[0].overdue is overdue


# --- identity by code -------------------------------------------------------------------------


@pytest.mark.promise("REQ-1")
def test_a_person_without_an_account_files_confirms_with_the_code_and_is_acknowledged_with_the_due_date():
    dana = admin()
    start = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
    at(start)
    r = file("know", VISITOR, "What do you hold about me?")
    assert r.status == "unverified" and r.needs_code and r.due_at is None
    assert db.in_session(requests.queue, by=dana) == []  # not a request until confirmed
    code = code_for(VISITOR)
    assert "10 minutes" in mails(VISITOR, "privacy_request_code")[-1].text_body

    with pytest.raises(requests.CodeError, match="not right. 2 tries left") as e:
        db.in_session(requests.verify, r.id, wrong(code))
    assert e.value.reason == "wrong"
    with pytest.raises(requests.CodeError, match="6-digit"):
        db.in_session(requests.verify, r.id, "12ab")  # not a code at all: no try counted
    with db.session() as s:
        assert s.get(PrivacyRequest, r.id).code_tries == 1

    at(start + timedelta(minutes=4))
    done = db.in_session(requests.verify, r.id, f" {code[:3]} {code[3:]} ")
    assert done.status == "open" and abs(done.verified_at - (start + timedelta(minutes=4))) < timedelta(seconds=5)
    assert abs(done.due_at - (done.verified_at + timedelta(days=30))) < timedelta(seconds=1)  # from confirmation
    ack = mails(VISITOR, "notice")[-1]
    assert ack.subject == f"We received your privacy request (#{r.id})"
    assert f"by {done.due_at:%A} {done.due_at.day} {done.due_at:%B %Y}" in ack.text_body
    assert [q.id for q in db.in_session(requests.queue, by=dana)] == [r.id]
    with pytest.raises(requests.RequestError, match="confirmed already"):
        db.in_session(requests.verify, r.id, code)


def test_a_code_expires_after_10_minutes_and_a_new_one_can_be_sent():
    start = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
    at(start)
    r = file("access")
    old = code_for(VISITOR)
    with pytest.raises(requests.RequestError, match="less than a minute ago"):
        db.in_session(requests.resend_code, r.id)  # not again at once
    at(start + timedelta(minutes=10, seconds=1))
    with pytest.raises(requests.CodeError, match="expired") as e:
        db.in_session(requests.verify, r.id, old)
    assert e.value.reason == "expired"
    db.in_session(requests.resend_code, r.id)
    new = code_for(VISITOR)
    assert len(mails(VISITOR, "privacy_request_code")) == 2
    if new != old:
        with pytest.raises(requests.CodeError, match="not right"):
            db.in_session(requests.verify, r.id, old)  # the old code no longer works
    assert db.in_session(requests.verify, r.id, new).status == "open"


def test_codes_to_one_address_are_limited():
    rs = [file("access") for _ in range(3)]
    with pytest.raises(requests.RequestError, match="Too many codes") as e:
        file("access")
    assert e.value.reason == "rate"
    at(clock.now() + timedelta(minutes=2))
    with pytest.raises(requests.RequestError, match="Too many codes"):
        db.in_session(requests.resend_code, rs[0].id)
    with db.session() as s:
        assert len(s.exec(select(PrivacyRequest)).all()) == 3  # a refused request is not stored


def test_three_wrong_codes_lock_the_request_and_a_new_one_must_be_filed():
    r = file("correction", details="My name is spelled Grayce in your records.")
    code = code_for(VISITOR)
    for left in ("2 tries left", "1 try left"):
        with pytest.raises(requests.CodeError, match=left):
            db.in_session(requests.verify, r.id, wrong(code))
    with pytest.raises(requests.CodeError, match="last try: this request is locked") as e:
        db.in_session(requests.verify, r.id, wrong(code))
    assert e.value.reason == "locked"
    for attempt in (lambda: db.in_session(requests.verify, r.id, code),
                    lambda: db.in_session(requests.resend_code, r.id)):
        with pytest.raises(requests.CodeError, match="file a new request"):
            attempt()
    with db.session() as s:
        row = s.get(PrivacyRequest, r.id)
        assert row.status == "locked" and row.code_hash is None and row.due_at is None
    assert file("correction", details="Grace, not Grayce.").status == "unverified"


def test_the_code_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    r = file("access")
    code = code_for(VISITOR)
    with pytest.raises(requests.CodeError):
        db.in_session(requests.verify, r.id, wrong(code))
    db.in_session(requests.verify, r.id, code)
    assert len(calls) == 2 and all(len(a) == len(b) == 64 for a, b in calls)


@pytest.mark.promise("REQ-1")
def test_the_code_is_kept_only_as_a_keyed_hash_and_the_address_and_words_are_encrypted():
    r = file("objection", VISITOR, "Stop using my posts for analytics, please.")
    code = code_for(VISITOR)
    with db.engine().connect() as c:
        raw = dict(c.execute(text("SELECT * FROM privacy_requests WHERE id = :i"), {"i": r.id}).mappings().one())
    flat = json.dumps({k: str(v) for k, v in raw.items()})
    for plain in (code, VISITOR, "analytics"):
        assert plain not in flat
    assert raw["code_hash"] == requests._code_hash(r.id, code) and len(raw["code_hash"]) == 64


# --- a signed-in user's requests ------------------------------------------------------------


@pytest.mark.promise("REQ-1")
def test_a_user_sees_only_their_own_requests_with_their_history():
    ada = sign_up()
    bob = sign_up(email="bob@example.com", name="Bob", team="Harbour Works")
    mine = file("access", "ada@example.com", user_id=ada.id)
    file("deletion", "bob@example.com", user_id=bob.id)
    # someone typing Ada's address without her code gets nothing into her list
    stranger = file("portability", "ada@example.com")
    other = file("access", "ada.other@example.net", user_id=ada.id)  # another address of hers: a code first
    assert other.status == "unverified"
    assert [r.id for r in db.in_session(requests.requests_of, ada.id)] == [other.id, mine.id]
    # once confirmed with the code sent to her address, the request is hers too
    db.in_session(requests.verify, stranger.id, code_for("ada@example.com"))
    theirs = db.in_session(requests.requests_of, ada.id)
    assert [r.id for r in theirs] == [other.id, stranger.id, mine.id]
    assert [r.email for r in db.in_session(requests.requests_of, bob.id)] == ["bob@example.com"]
    assert [(h.status, h.actor) for h in theirs[-1].history] == [("unverified", "requester"), ("open", "requester")]


def test_wrong_input_gets_a_clear_message():
    for kind, email, details, reason in (
        ("nonsense", VISITOR, "", "kind"),
        ("access", "not an address", "", "email"),
        ("access", "a@b.example\r\nBcc: x@y.example", "", "email"),
        ("inquiry", VISITOR, "  ", "details"),
        ("other", VISITOR, "x" * 5001, "details"),
    ):
        with pytest.raises(requests.RequestError) as e:
            file(kind, email, details)
        assert e.value.reason == reason and e.value.message


# --- the privacy team's work ----------------------------------------------------------------


@pytest.mark.promise("REQ-1")
def test_a_request_can_be_extended_once_with_a_reason_and_the_requester_is_told():
    dana = admin()
    ada = sign_up()
    r = file("access", "ada@example.com", user_id=ada.id)
    with pytest.raises(requests.RequestError, match="Say why"):
        db.in_session(requests.extend, r.id, "  ", by=dana)
    with pytest.raises(requests.NotAllowed):
        db.in_session(requests.extend, r.id, "Because.", by=ada.id)
    longer = db.in_session(requests.extend, r.id, "Your data spans six workspaces.", by=dana)
    assert longer.due_at == r.due_at + timedelta(days=get_settings().privacy_request_extension_days)
    assert longer.extension_reason == "Your data spans six workspaces."
    assert longer.history[-1].note == "Due date extended by 60 days: Your data spans six workspaces."
    told = mails("ada@example.com", "notice")[-1]
    assert told.subject == f"We need more time for your privacy request (#{r.id})"
    assert "six workspaces" in told.text_body and f"{longer.due_at:%B %Y}" in told.text_body
    with pytest.raises(requests.RequestError, match="only once"):
        db.in_session(requests.extend, r.id, "Still more.", by=dana)
    q = file("inquiry", "ada@example.com", "Where are my posts stored?", user_id=ada.id)
    with pytest.raises(requests.RequestError, match="cannot be extended"):
        db.in_session(requests.extend, q.id, "Busy week.", by=dana)
    late = file("deletion", "ada@example.com", user_id=ada.id)
    at(late.due_at + timedelta(hours=1))
    with pytest.raises(requests.RequestError, match="due date has passed"):
        db.in_session(requests.extend, late.id, "Too late.", by=dana)


@pytest.mark.promise("REQ-1")
def test_requests_are_worked_and_closed_with_their_history_and_the_requester_told():
    dana = admin()
    ada = sign_up()
    r = file("correction", "ada@example.com", "My team is called Engines now.", user_id=ada.id)
    db.in_session(requests.set_status, r.id, "in_progress", by=dana, note="Checking the workspaces.")
    with pytest.raises(requests.RequestError, match="Say why"):
        db.in_session(requests.close, r.id, "rejected", by=dana)
    done = db.in_session(requests.close, r.id, "done", by=dana, reason="The workspace is renamed.")
    assert done.status == "done" and done.closed_at is not None
    assert [(h.status, h.actor) for h in done.history] == [
        ("unverified", "requester"), ("open", "requester"), ("in_progress", "privacy team"), ("done", "privacy team")]
    told = mails("ada@example.com", "notice")[-1]
    assert told.subject == f"Your privacy request is answered (#{r.id})" and "renamed" in told.text_body
    assert db.in_session(requests.queue, by=dana) == []
    assert [x.id for x in db.in_session(requests.queue, by=dana, statuses=("done",))] == [r.id]
    with pytest.raises(requests.RequestError, match="closed"):
        db.in_session(requests.set_status, r.id, "open", by=dana)

    no = file("deletion", "ada@example.com", user_id=ada.id)
    db.in_session(requests.close, no.id, "rejected", by=dana, reason="We must keep invoices for 7 years.")
    told = mails("ada@example.com", "notice")[-1]
    assert "invoices" in told.text_body and "data protection authority" in told.text_body
    with db.session() as s:  # the history is append-only
        e = s.exec(select(PrivacyRequestEvent).order_by(PrivacyRequestEvent.id)).first()
        e.note = "rewritten"
        s.add(e)
        with pytest.raises(ValueError, match="append-only"):
            s.commit()
        s.rollback()


def test_the_privacy_team_logs_an_emailed_request_and_confirms_the_sender_another_way():
    dana = admin()
    r = file("deletion", VISITOR, "Sent from my phone.", logged_by=dana)
    assert r.channel == "email" and r.status == "unverified" and r.history[0].actor == "privacy team"
    with pytest.raises(requests.RequestError, match="Say how"):
        db.in_session(requests.confirm_identity, r.id, "", by=dana)
    opened = db.in_session(requests.confirm_identity, r.id, "Replied from the address with the code.", by=dana)
    assert opened.status == "open" and opened.due_at is not None
    with pytest.raises(requests.NotAllowed):
        file("deletion", VISITOR, logged_by=sign_up(email="eve@example.com", name="Eve", team="E").id)


# --- the alert ---------------------------------------------------------------------------------


@pytest.mark.promise("REQ-1")
def test_the_privacy_team_is_alerted_once_before_a_request_is_due_and_again_after_an_extension():
    dana = admin()
    ada = sign_up()
    job = registry.get("privacy.request_alerts")
    start = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    at(start)
    r = file("access", "ada@example.com", user_id=ada.id)
    job.func(db.session)
    at(r.due_at - timedelta(days=7))
    assert job.func(db.session) == 0 and alerts() == []
    at(r.due_at - timedelta(days=2))
    assert job.func(db.session) == 1
    assert job.func(db.session) == 0  # the same day again: nothing more
    at(r.due_at - timedelta(days=1))
    job.func(db.session)  # the next day: still one
    at(r.due_at + timedelta(days=7))
    job.func(db.session)  # overdue, a week on: still one
    assert len(alerts()) == 1
    alert = alerts()[0]
    assert alert.subject == f"Privacy request #{r.id} is due {r.due_at:%A} {r.due_at.day} {r.due_at:%B %Y}"
    assert "ada@example.com" not in alert.text_body  # the alert names no one
    with db.session() as s:
        assert s.get(PrivacyRequest, r.id).alerted_at is not None

    # an overdue request that never alerted (the job did not run) alerts at once, once
    late = file("inquiry", "ada@example.com", "Who are your processors?", user_id=ada.id)
    at(late.due_at + timedelta(days=7))
    assert job.func(db.session) == 1 and job.func(db.session) == 0
    assert alerts()[-1].subject == f"Privacy request #{late.id} is overdue"

    # an extension moves the due date on, and the new date gets its alert
    other = file("deletion", "ada@example.com", user_id=ada.id)
    at(other.due_at - timedelta(days=2))
    assert job.func(db.session) == 1
    db.in_session(requests.extend, other.id, "Backups need to be checked.", by=dana)
    assert job.func(db.session) == 0
    at(other.due_at + timedelta(days=58))
    assert job.func(db.session) == 1
    # closed requests are not alerted about
    db.in_session(requests.close, other.id, "done", by=dana)
    at(other.due_at + timedelta(days=90))
    assert job.func(db.session) == 0


# --- retention, export and erasure -------------------------------------------------------------


def test_unconfirmed_requests_are_deleted_after_a_day_and_closed_ones_lose_the_persons_details():
    dana = admin()
    ada = sign_up()
    at(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    pending = file("access")
    kept = file("access", "ada@example.com", "Everything, please.", user_id=ada.id)
    db.in_session(requests.close, kept.id, "done", by=dana)
    at(datetime(2027, 1, 5, 10, 0, tzinfo=UTC))
    assert registry.get("privacy.purge_requests").func(db.session) == 1
    at(datetime(2027, 1, 4, 9, 0, tzinfo=UTC) + timedelta(days=get_settings().retention_history_days + 1))
    assert db.in_session(requests.purge) == 1
    with db.session() as s:
        assert s.get(PrivacyRequest, pending.id) is None
        row = s.get(PrivacyRequest, kept.id)
        assert (row.email, row.details, row.user_id, row.kind, row.status) == ("", "", None, "access", "done")
    assert db.in_session(requests.purge) == 0


@pytest.mark.promise("REQ-1")
def test_the_export_holds_the_users_requests_without_the_code_and_erasure_leaves_only_an_anonymous_record():
    ada = sign_up()
    bob = sign_up(email="bob@example.com", name="Bob", team="Harbour Works")
    open_one = file("access", "ada@example.com", "All of it.", user_id=ada.id)
    pending = file("access", "ada.other@example.net", user_id=ada.id)
    file("deletion", "bob@example.com", "Bob's secret wish.", user_id=bob.id)
    with db.session() as s:
        doc = export.document(s, s.get(User, ada.id))
    jsonschema.validate(doc, json.loads(routes.SCHEMA_FILE.read_text()))
    rows = {h["table"]: h["rows"] for h in doc["holdings"]}
    assert [(r["id"], r["details"]) for r in rows["privacy_requests"]] == [(open_one.id, "All of it."), (pending.id, "")]
    assert {e["request_id"] for e in rows["privacy_request_events"]} == {open_one.id, pending.id}
    flat = json.dumps(doc)
    assert "code_hash" not in flat and "code_tries" not in flat and "Bob's secret" not in flat

    db.in_session(erasure.request_deletion, ada.id, password=PASSWORD)
    db.in_session(erasure.erase_pending)
    with db.session() as s:
        assert referring_rows(s, ada.id, "ada@example.com") == {}
        assert s.get(PrivacyRequest, pending.id) is None  # never confirmed: not a request
        row = s.get(PrivacyRequest, open_one.id)  # the record of a confirmed one stays, identifying no one
        assert (row.kind, row.status, row.email, row.email_index, row.details, row.user_id) == ("access", "open", "", "", "", None)
        assert row.anonymised_at is not None and row.due_at is not None
        notes = [e.note for e in s.exec(select(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id == row.id)
                                                .order_by(PrivacyRequestEvent.id))]
        assert "account was deleted" in notes[-1]
        assert s.exec(select(PrivacyRequest).where(PrivacyRequest.user_id == bob.id)).one().details == "Bob's secret wish."
