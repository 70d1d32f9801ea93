"""Marketing email reaches only people who opted in, once per campaign, each message with a
one-click unsubscribe link (RFC 8058) that works signed out: over HTTP against the routes as
the app mounts them, with no cookie and no Origin, as a mail provider posts."""

from __future__ import annotations

import re
from unittest import mock

import httpx
import pytest
from sqlmodel import col, select

from fakes.smtp_sink import SmtpSink
from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts import session_header
from omnipostr.accounts.models import User
from omnipostr.http_security import security_headers, upload_limit
from omnipostr.notify import service as outbox
from omnipostr.notify.models import OutboxMessage
from omnipostr.notify.smtp import SmtpTransport, build_email
from omnipostr.privacy import erasure, marketing, service
from omnipostr.settings import get_settings, reset_settings
from omnipostr.usage.models import UsageEvent
from tests.accounts.helpers import PASSWORD, actor_for, sign_up

ORIGIN = "http://localhost:3000"
MAIL_FROM = "OmniPostr <no-reply@omnipostr.test>"
BODY = "Scheduling is here.\n\nPick a time for each post,\nand we publish it for you."
NOT_VALID = "This unsubscribe link is not valid"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture(autouse=True)
def _origin(monkeypatch):
    monkeypatch.setenv("OMNIPOSTR_BASE_URL", ORIGIN)
    monkeypatch.setenv("OMNIPOSTR_ENV", "development")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
async def http():
    """A client of the app's HTTP routes, mounted and wrapped as ``omnipostr.py`` does; it
    keeps no cookies and sends no Origin unless a test says so."""
    from omnipostr.omnipostr import api

    app = security_headers(upload_limit(session_header.middleware(api)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        yield c


def person(email: str, *, opted_in: bool = True, verified: bool = True) -> User:
    user = sign_up(email=email, name=email.split("@")[0].title(), verify=verified)
    if opted_in:
        db.in_session(service.set_marketing, user.id, True)
    return user


def opted_in(user_id: int) -> bool:
    with db.session() as s:
        return s.get(User, user_id).marketing_opt_in


def marketing_mail(to: User | None = None) -> list[OutboxMessage]:
    with db.session() as s:
        q = select(OutboxMessage).where(OutboxMessage.marketing == True).order_by(OutboxMessage.id)  # noqa: E712
        if to is not None:
            q = q.where(OutboxMessage.user_id == to.id)
        return list(s.exec(q))


def privacy_events(user_id: int) -> list[str]:
    with db.session() as s:
        q = select(UsageEvent.kind).where(UsageEvent.user_id == user_id, col(UsageEvent.kind).startswith("privacy."))
        return list(s.exec(q.order_by(UsageEvent.id)))


def send(campaign: str = "launch-1", subject: str = "Scheduling is here") -> marketing.CampaignReport:
    return db.in_session(marketing.send_campaign, campaign, subject, BODY)


def link_in(message: OutboxMessage) -> str:
    m = re.search(r"Unsubscribe with one click: (\S+)", message.text_body)
    assert m, message.text_body
    return m.group(1)


def path_of(url: str) -> str:
    assert url.startswith(ORIGIN + "/unsubscribe/"), url
    return url[len(ORIGIN):]


def token_for(user: User, purpose: str = marketing.PURPOSE) -> str:
    with db.session() as s:
        return marketing.unsubscribe_token(s.get(User, user.id), purpose)


# --- who gets it ----------------------------------------------------------------------------


@pytest.mark.promise("COM-2")
@pytest.mark.promise("MKT-1")
def test_only_people_who_opted_in_get_marketing_email():
    ada = person("ada@example.com")
    bob = person("bob@example.com", opted_in=False)
    cy = person("cy@example.com", verified=False)  # opted in at sign-up, address never confirmed
    dee = person("dee@example.com")
    db.in_session(erasure.request_deletion, dee.id, password=PASSWORD)
    eve = person("eve@example.com")
    db.in_session(service.set_marketing, eve.id, False)

    report = send()

    assert (report.queued, report.already_sent, report.skipped) == (1, 0, 0)
    [m] = marketing_mail()
    assert m.user_id == ada.id and m.to_address == "ada@example.com" and m.kind == "marketing"
    assert m.subject == "Scheduling is here" and m.status == "queued"
    assert "Hi Ada," in m.text_body and "Pick a time for each post,\nand we publish it for you." in m.text_body
    for nobody in (bob, cy, dee, eve):
        assert marketing_mail(nobody) == []


@pytest.mark.promise("COM-2")
def test_no_marketing_email_at_all_without_an_opt_in():
    person("bob@example.com", opted_in=False)
    person("cy@example.com", opted_in=False)
    assert send().queued == 0
    assert marketing_mail() == []


@pytest.mark.promise("COM-2")
@pytest.mark.promise("MKT-1")
def test_each_message_has_its_own_one_click_link_in_the_headers_and_the_footer():
    ada, grace = person("ada@example.com"), person("grace@example.com")
    send()
    mails = {m.user_id: m for m in marketing_mail()}
    assert set(mails) == {ada.id, grace.id}
    links = {uid: link_in(m) for uid, m in mails.items()}
    assert links[ada.id] != links[grace.id]
    for user in (ada, grace):
        m, url = mails[user.id], links[user.id]
        assert url == f"{ORIGIN}/unsubscribe/{token_for(user)}" and m.unsubscribe_url == url
        em = build_email(m, MAIL_FROM)
        assert em["List-Unsubscribe"] == f"<{url}>"
        assert em["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert em["Auto-Submitted"] is None
        html_part = em.get_body(("html",)).get_content()
        assert f'href="{url}"' in html_part and "Unsubscribe" in html_part
        assert f"{ORIGIN}/settings/privacy" in m.text_body and f"{ORIGIN}/settings/privacy" in html_part

    with SmtpSink() as sink:  # and so they arrive, through the real SMTP transport
        smtp = SmtpTransport(sink.host, sink.port, mail_from=MAIL_FROM, starttls=False, timeout=5)
        assert outbox.send_due(db.session, transport=smtp).failed == 0
        got = sink.wait_for(lambda e: e["To"] == "ada@example.com" and e["List-Unsubscribe"], timeout=2)
    assert got["List-Unsubscribe"] == f"<{links[ada.id]}>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.promise("MKT-1")
def test_a_campaign_run_again_mails_nobody_twice():
    ada = person("ada@example.com")
    first = send("launch-1")
    assert first.queued == 1
    again = send("launch-1")
    assert (again.queued, again.already_sent) == (0, 1)
    grace = person("grace@example.com")  # opted in since: the rerun reaches only her
    third = send("launch-1")
    assert (third.queued, third.already_sent) == (1, 1)
    assert [m.user_id for m in marketing_mail()] == [ada.id, grace.id]
    assert send("launch-2").queued == 2  # another campaign is another message
    assert db.in_session(marketing.preview_campaign, "launch-2").queued == 0


@pytest.mark.promise("MKT-1")
def test_a_campaign_is_recorded_even_for_someone_who_objected_to_usage_analytics():
    ada = person("ada@example.com")
    db.in_session(service.set_usage_objection, ada.id, True)
    send()
    assert send().queued == 0
    assert len(marketing_mail(ada)) == 1


def test_one_campaign_cannot_run_twice_at_once():
    from omnipostr.jobs import service as leases

    person("ada@example.com")
    with db.session() as s:
        assert leases.acquire_lease(s, "another-process", 600, name="marketing:launch-1") is not None
    with pytest.raises(marketing.CampaignError, match="another process"):
        send("launch-1")
    assert marketing_mail() == []
    assert send("launch-2").queued == 1


@pytest.mark.parametrize(
    ("campaign", "subject", "body", "problem"),
    [
        ("", "Hi", BODY, "campaign name"),
        ("has space", "Hi", BODY, "campaign name"),
        ("x" * 49, "Hi", BODY, "campaign name"),
        ("ok", "  ", BODY, "subject is empty"),
        ("ok", "Hi", "\n\n  \n", "text is empty"),
    ],
)
def test_a_bad_campaign_is_refused_before_anything_is_sent(campaign, subject, body, problem):
    person("ada@example.com")
    with pytest.raises(marketing.CampaignError, match=problem):
        db.in_session(marketing.send_campaign, campaign, subject, body)
    assert marketing_mail() == []


def test_marketing_templates_cannot_go_out_as_ordinary_mail():
    ctx = {"subject": "x", "paragraphs": ["x"], "unsubscribe_link": f"{ORIGIN}/unsubscribe/t", "settings_link": ORIGIN}
    with db.session() as s, pytest.raises(ValueError, match="marketing"):
        outbox.enqueue(s, "marketing", "ada@example.com", ctx)


# --- one-click unsubscribe --------------------------------------------------------------------


@pytest.mark.promise("COM-2")
@pytest.mark.promise("RGT-4")
@pytest.mark.promise("MKT-1")
async def test_one_click_post_without_a_session_unsubscribes_and_the_next_campaign_skips_them(http):
    ada, grace = person("ada@example.com"), person("grace@example.com")
    send("launch-1")
    path = path_of(link_in(marketing_mail(ada)[0]))

    r = await http.post(path, data=ONE_CLICK)  # no cookie, no Origin: as a mail provider posts

    assert r.status_code == 200, r.text
    assert "You are unsubscribed" in r.text and "a***@example.com" in r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    assert not r.headers.get_list("set-cookie")
    assert opted_in(ada.id) is False and opted_in(grace.id) is True
    assert privacy_events(ada.id)[-1] == "privacy.marketing_off"  # recorded, with its time

    again = await http.post(path, data=ONE_CLICK)  # providers may retry: still fine, nothing more
    assert again.status_code == 200 and privacy_events(ada.id).count("privacy.marketing_off") == 1

    assert marketing_mail(ada) == []  # launch-1, still waiting in the outbox, was withdrawn too
    report = send("launch-2")
    assert report.queued == 1
    assert marketing_mail(ada) == [] and len(marketing_mail(grace)) == 2


@pytest.mark.promise("RGT-4")
async def test_one_click_works_from_another_site_and_as_multipart(http):
    ada = person("ada@example.com")
    path = f"/unsubscribe/{token_for(ada)}"
    r = await http.post(path, files={"List-Unsubscribe": (None, "One-Click")}, headers={"origin": "https://mail.example"})
    assert r.status_code == 200 and opted_in(ada.id) is False


@pytest.mark.promise("COM-2")
async def test_origin_protection_still_guards_every_other_post(http):
    ada = person("ada@example.com")
    ticket = db.in_session(accounts.issue_sign_in_ticket, ada.id, "/app")
    assert (await http.post("/auth/session", data={"ticket": ticket})).status_code == 403
    assert (await http.post("/auth/logout", data={}, headers={"origin": "https://evil.example"})).status_code == 403
    assert (await http.post(f"/unsubscribe/{token_for(ada)}", data=ONE_CLICK)).status_code == 200


@pytest.mark.promise("COM-2")
@pytest.mark.promise("RGT-4")
async def test_opening_the_link_does_not_unsubscribe_it_asks(http):
    ada = person("ada@example.com")
    send()
    url = link_in(marketing_mail(ada)[0])
    path = path_of(url)

    r = await http.get(path)
    head = await http.head(path)

    assert r.status_code == 200 and head.status_code == 200
    assert opted_in(ada.id) is True and "privacy.marketing_off" not in privacy_events(ada.id)
    page = r.text
    assert "a***@example.com" in page and "ada@example.com" not in page
    assert f'<form method="post" action="{path}">' in page
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page
    assert '<button type="submit">Unsubscribe</button>' in page
    # nothing from anywhere else and no script: it works under the app's CSP as it is
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-robots-tag"] == "noindex"

    # the page's own button posts what a mail provider posts
    done = await http.post(path, data=ONE_CLICK, headers={"origin": ORIGIN})
    assert done.status_code == 200 and opted_in(ada.id) is False
    later = await http.get(path)
    assert later.status_code == 200 and "You are not subscribed" in later.text and "<form" not in later.text


async def test_a_post_that_does_not_ask_to_unsubscribe_changes_nothing(http):
    ada = person("ada@example.com")
    path = f"/unsubscribe/{token_for(ada)}"
    for data in ({}, {"List-Unsubscribe": "yes"}):
        r = await http.post(path, data=data)
        assert r.status_code == 400 and "Nothing was changed" in r.text
    big = await http.post(path, content=b"List-Unsubscribe=One-Click&x=" + b"a" * 20_000,
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    assert opted_in(ada.id) is True


def _forgeries(ada: User, bob: User) -> dict[str, str]:
    good = token_for(ada)
    purpose, uid, stamp, sig = good.split(".")
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    other = token_for(ada, purpose="product_news")
    return {
        "another user's id": f"{purpose}.{bob.id}.{stamp}.{sig}",
        "a changed signature": f"{purpose}.{uid}.{stamp}.{flipped}",
        "another purpose": other,
        "the purpose renamed": f"newsletter.{uid}.{stamp}.{sig}",
        "a signature from another purpose": f"{purpose}.{uid}.{stamp}.{other.split('.')[-1]}",
        "a changed stamp": f"{purpose}.{uid}.{'x' * 8}.{sig}",
        "cut short": good[:-5],
        "garbage": "not-a-token",
    }


@pytest.mark.promise("COM-2")
@pytest.mark.promise("RGT-4")
async def test_a_forged_or_altered_link_fails_and_changes_nothing(http):
    ada, bob = person("ada@example.com"), person("bob@example.com")
    before = privacy_events(ada.id), privacy_events(bob.id)
    for what, token in _forgeries(ada, bob).items():
        assert marketing.read_token(token) is None, what
        for r in (await http.get(f"/unsubscribe/{token}"), await http.post(f"/unsubscribe/{token}", data=ONE_CLICK)):
            assert r.status_code == 400, (what, r.status_code)
            assert NOT_VALID in r.text and "/settings/privacy" in r.text, what
            assert "ada" not in r.text.lower() and "bob" not in r.text.lower()
    assert opted_in(ada.id) is True and opted_in(bob.id) is True
    assert (privacy_events(ada.id), privacy_events(bob.id)) == before


def test_the_token_is_verified_without_the_database_and_names_user_and_purpose():
    ada = person("ada@example.com")
    token = token_for(ada)
    assert token.startswith(f"marketing.{ada.id}.")
    claim = marketing.read_token(token)
    assert claim is not None and claim.user_id == ada.id
    assert marketing.read_token(token, purpose="product_news") is None
    with mock.patch.object(db, "engine", side_effect=AssertionError("no database lookup")):
        assert marketing.read_token(token) == claim  # the signature alone decides


@pytest.mark.promise("RGT-4")
async def test_the_link_keeps_working_after_a_password_change(http):
    ada = person("ada@example.com")
    path = f"/unsubscribe/{token_for(ada)}"
    actor = actor_for(ada.id)
    db.in_session(accounts.change_password, actor, PASSWORD, "a brand new passphrase 42")
    assert token_for(ada) == path.rsplit("/", 1)[1]
    r = await http.post(path, data=ONE_CLICK)
    assert r.status_code == 200 and opted_in(ada.id) is False


async def test_a_deleted_accounts_link_never_reaches_a_new_account(http):
    old = person("old@example.com")
    path = f"/unsubscribe/{token_for(old)}"
    db.in_session(erasure.request_deletion, old.id, password=PASSWORD)
    assert db.in_session(erasure.erase_pending) == 1
    with db.session() as s:
        assert s.get(User, old.id) is None
    new = person("new@example.com")  # SQLite gives it the freed id; PostgreSQL a new one
    for r in (await http.get(path), await http.post(path, data=ONE_CLICK)):
        assert r.status_code == 400 and NOT_VALID in r.text and "n***@example.com" not in r.text
    assert opted_in(new.id) is True


@pytest.mark.promise("COM-2")
@pytest.mark.promise("RGT-4")
def test_opting_out_withdraws_marketing_mail_still_waiting():
    ada, grace = person("ada@example.com"), person("grace@example.com")
    with db.session() as s:
        outbox.enqueue(s, "verify_email", "ada@example.com", {"name": "Ada", "link": f"{ORIGIN}/v"}, user_id=ada.id)
    send()
    db.in_session(service.set_marketing, ada.id, False)
    assert [m.user_id for m in marketing_mail()] == [grace.id]
    with db.session() as s:  # her other mail stays
        kinds = [m.kind for m in s.exec(select(OutboxMessage).where(OutboxMessage.user_id == ada.id))]
    assert "verify_email" in kinds and "marketing" not in kinds


# --- the operator's command ---------------------------------------------------------------------


def test_the_command_sends_a_campaign_once(tmp_path, capsys):
    ada = person("ada@example.com")
    person("bob@example.com", opted_in=False)
    body = tmp_path / "news.txt"
    body.write_text(BODY, encoding="utf-8")
    args = ["--campaign", "launch-1", "--subject", "Scheduling is here", "--body-file", str(body)]

    assert marketing.main(["--campaign", "launch-1", "--dry-run"]) == 0
    assert "1 would get it now, 0 already did" in capsys.readouterr().out
    assert marketing.main(args) == 0
    assert "launch-1: 1 queued, 0 had it already" in capsys.readouterr().out
    assert marketing.main(args) == 0
    assert "launch-1: 0 queued, 1 had it already" in capsys.readouterr().out
    assert [m.user_id for m in marketing_mail()] == [ada.id]

    assert marketing.main(["--campaign", "bad name", "--subject", "x", "--body-file", str(body)]) == 2
    assert "campaign name" in capsys.readouterr().err
    assert get_settings().base_url == ORIGIN
