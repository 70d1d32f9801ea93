"""The retention rules under a moved clock: each kind of data is kept until its day and gone
the day after, the posts survive every purge, a dry run changes nothing, and the periods the
jobs apply are the ones the policy and the privacy center state."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from omnipostr import db, jobs
from omnipostr import tables as _tables  # noqa: F401 - every capability's tables
from omnipostr.accounts import service as accounts
from omnipostr.accounts.models import User, Workspace
from omnipostr.library import service as library
from omnipostr.privacy import erasure, inventory, policy
from omnipostr.privacy import service as privacy
from omnipostr.repurpose import queue
from omnipostr.repurpose.models import Generation, GenerationTask, Variant, VariantRevision
from omnipostr.repurpose.service import ComposeError
from omnipostr.retention import service
from omnipostr.usage import service as usage
from tests.accounts.helpers import PASSWORD, actor_for, mails
from tests.privacy.test_contact import configured
from tests.privacy.test_erasure import referring_rows
from tests.privacy.test_export import seeded
from tests.repurpose.helpers import member, request, start
from tests.retention.helpers import days, generated, generation, raw, source_of


def posts(actor, gen_id: int) -> dict[str, list[str]]:
    with db.session() as s:
        view = library.get_generation(s, actor, gen_id)
    return {v.platform: list(v.post.posts) for v in view.variants}


def run(name: str):
    result = jobs.run_now(name, session_factory=db.session)
    assert result.outcome == "ok", result.error
    return result


# --- RET-1 -----------------------------------------------------------------------------------------


@pytest.mark.promise("RET-1", "RET-2")
async def test_the_original_text_goes_90_days_after_it_was_added_and_leaves_a_stub_the_posts_stay():
    ada = member()
    gen = await generated(ada)
    before = posts(ada, gen.id)
    waiting = start(ada, request(title="Still being written"))  # queued: its worker will need the text
    db.in_session(queue.enqueue, waiting.id, waiting.workspace_id)

    with db.session() as s:  # the date it goes, as the privacy center and the library will show it
        due = {d.item_id: d for d in service.due_dates(s, ada.user_id) if d.what == "source_text"}
    assert due[gen.source_id].when == source_of(gen).created_at + service._days(90)
    assert due[gen.source_id].why == "Original text is kept 90 days after you add it."
    when = due[gen.source_id].when
    assert db.in_session(library.source_note, ada, gen.id) == (
        f"The original text is kept until {when:%B} {when.day}, {when.year} (90 days after it was added); "
        "you can delete it sooner."
    )

    days(89)
    assert db.in_session(service.purge_source_text).count == 0
    assert raw("SELECT count(*) FROM sources WHERE text IS NOT NULL") == [(2,)]

    days(2)  # 91 days after
    dry = db.in_session(service.purge_source_text, dry_run=True)
    assert (dry.count, dry.held) == (1, 0)
    assert raw("SELECT count(*) FROM sources WHERE text IS NOT NULL") == [(2,)]  # a dry run changes nothing
    assert run("retention.source_text").items == 1

    # the raw row: no text, a marker saying who removed it and when; the title stays
    text_, by, when, title = raw("SELECT text, text_removed_by, text_deleted_at, title FROM sources WHERE id = :i",
                                 i=gen.source_id)[0]
    assert text_ is None and by == "retention" and when is not None and title
    assert raw("SELECT text FROM sources WHERE id = :i", i=waiting.source_id)[0][0] is not None
    with db.session() as s:  # nor through the data inventory (the export)
        (sources,) = [h for h in inventory.holdings() if h.table == "sources"]
        assert {r["title"]: r["text"] for r in sources.rows(s, s.get(User, ada.user_id))}["Small teams"] is None

    # the library shows the stub instead of failing, and every post as it was
    with db.session() as s:
        view = library.get_generation(s, ada, gen.id)
        note = library.source_note(s, ada, gen.id)
    assert view.source_text is None
    assert re.fullmatch(r"The original was removed on [A-Z][a-z]+ \d{1,2}, \d{4} \(kept 91 days\)\.", note)
    assert posts(ada, gen.id) == before
    word = next(w for w in before["x"][0].split() if len(w) > 5 and w.isalpha())
    assert gen.id in [i.id for i in db.in_session(library.list_generations, ada, query=word).items]
    with pytest.raises(ComposeError, match="The original was removed on .* It cannot be reused"):
        db.in_session(library.reuse_source, ada, gen.id)
    assert db.in_session(service.purge_source_text).count == 0  # once is enough


async def test_a_text_the_user_deleted_says_so_and_the_purge_leaves_its_date_alone():
    ada = member()
    gen = await generated(ada)
    db.in_session(library.delete_source_text, ada, gen.id)
    deleted_at = source_of(gen).text_deleted_at
    days(91)
    assert db.in_session(service.purge_source_text).count == 0
    src = source_of(gen)
    assert src.text_removed_by == "user" and src.text_deleted_at == deleted_at
    assert db.in_session(library.source_note, ada, gen.id).startswith("The original text was deleted on ")


# --- RET-3 -----------------------------------------------------------------------------------------


@pytest.mark.promise("RET-3", "RET-2")
async def test_generation_history_goes_after_12_months_and_the_posts_stay():
    ada = member()
    gen = await generated(ada)
    with db.session() as s:  # a run by Claude leaves its settings, model, tokens and timings
        g = s.get(Generation, gen.id)
        g.engine, g.model, g.input_tokens, g.output_tokens, g.cost_usd = "claude", "claude-sonnet-5-5", 1200, 800, 0.02
        g.options = {"tone": "warm", "audience": "founders"}
        g.timings = {"x": {"first_token_ms": 300, "total_ms": 900, "attempts": 1}}
        s.add(g)
        for v in s.exec(select(Variant).where(Variant.generation_id == gen.id)):
            v.input_tokens, v.output_tokens, v.cost_usd, v.attempts = 600, 400, 0.01, 1
            s.add(v)
    before = posts(ada, gen.id)
    revisions = raw("SELECT count(*) FROM variant_revisions")

    days(364)
    assert db.in_session(service.purge_history).count == 0
    assert generation(gen.id).model == "claude-sonnet-5-5"

    days(2)  # 366 days after
    assert db.in_session(service.purge_history, dry_run=True).count == 1
    assert generation(gen.id).input_tokens == 1200
    assert run("retention.history").items == 1

    g = generation(gen.id)
    assert g.history_purged_at is not None
    assert (g.options, g.engine, g.model, g.error, g.timings, g.runner) == ({}, "", "", "", {}, "")
    assert (g.input_tokens, g.output_tokens, g.cache_read_tokens, g.cache_write_tokens, g.cost_usd) == (0, 0, 0, 0, 0)
    assert (g.started_at, g.finished_at, g.heartbeat_at) == (None, None, None)
    ((model, tokens_in, tokens_out, cost, timings),) = raw("SELECT model, input_tokens, output_tokens, cost_usd, timings FROM generations")
    assert (model, tokens_in, tokens_out, cost) == ("", 0, 0, 0) and timings in ("{}", {})
    assert raw("SELECT sum(input_tokens + output_tokens), sum(cost_usd), sum(attempts) FROM variants") == [(0, 0, 0)]
    assert raw("SELECT count(*) FROM generation_tasks") == [(0,)]

    # the posts, their versions and the library's entry stay
    assert posts(ada, gen.id) == before
    assert raw("SELECT count(*) FROM variant_revisions") == revisions
    assert [i.id for i in db.in_session(library.list_generations, ada).items] == [gen.id]
    assert db.in_session(service.purge_history).count == 0

    # RET-2: a post is deleted when its owner deletes it, and only then
    vid = db.in_session(lambda s: s.exec(select(Variant.id).where(Variant.generation_id == gen.id)).first())
    db.in_session(library.delete_variant, ada, vid)
    assert raw("SELECT count(*) FROM variants WHERE id = :i", i=vid) == [(0,)]
    assert raw("SELECT count(*) FROM variant_revisions WHERE variant_id = :i", i=vid) == [(0,)]


@pytest.mark.promise("RET-2")
async def test_posts_survive_every_purge():
    ada = member()
    gen = await generated(ada)
    before = posts(ada, gen.id)
    days(800)
    db.in_session(service.run_all)
    assert posts(ada, gen.id) == before
    with db.session() as s:
        assert s.exec(select(VariantRevision)).all() and s.exec(select(GenerationTask)).all() == []


# --- leftovers --------------------------------------------------------------------------------------


def _leftovers() -> dict[str, int]:
    for rule in ("sessions", "tokens", "invites", "login_failures", "usage_events"):
        db.in_session(service.RULES[rule])
    return {t: raw(f"SELECT count(*) FROM {t}")[0][0]  # noqa: S608 - table names of this test
            for t in ("sessions", "known_devices", "auth_tokens", "invites", "login_failures", "usage_events")}


async def test_sessions_links_failed_sign_ins_invitations_and_usage_go_after_their_periods():
    ada = member(analytics=True)  # signed up (a used confirmation link) and signed in
    second = actor_for(ada.user_id)
    with db.session() as s:
        signed_out = s.exec(select(accounts.AuthSession).where(accounts.AuthSession.user_id == ada.user_id)
                            .order_by(accounts.AuthSession.id)).first()
        accounts.revoke_session(s, ada.user_id, signed_out.id)
        accounts.invite_member(s, ada, "carol@example.com")
        usage.record(s, "feature.copy", workspace_id=ada.workspace_id, user_id=ada.user_id)
    with pytest.raises(accounts.AuthError), db.session() as s:
        accounts.authenticate(s, "ada@example.com", "not the password")
    assert second is not None
    start_ = _leftovers()
    assert start_["sessions"] == 2 and start_["auth_tokens"] >= 1 and start_["login_failures"] >= 1
    assert start_["invites"] == 1 and start_["usage_events"] >= 1 and start_["known_devices"] == 1

    days(0.5)
    assert _leftovers() == start_
    days(1.5)  # 2 days: used links and failed sign-ins are a day past their period
    now = _leftovers()
    assert now["auth_tokens"] == 0 and now["login_failures"] == 0 and now["invites"] == 1
    days(7)  # 9 days: the invitation expired 2 days ago
    assert _leftovers()["invites"] == 0
    days(20)  # 29 days: the signed-out session is kept 30 days
    assert _leftovers()["sessions"] == 2
    days(2)  # 31 days
    assert _leftovers()["sessions"] == 1
    days(12)  # 43 days: the other one ended when idle for 14 days; kept 30 more
    assert _leftovers()["sessions"] == 1
    days(2)  # 45 days
    assert _leftovers()["sessions"] == 0
    days(14)  # 59 days: the browser was last seen 59 days ago (30-day sessions + 30 days)
    assert _leftovers()["known_devices"] == 1
    days(2)
    assert _leftovers()["known_devices"] == 0
    days(364 - 61)
    assert _leftovers()["usage_events"] >= 1
    days(2)  # 366 days
    assert _leftovers()["usage_events"] == 0


async def test_the_records_of_privacy_choices_stay_while_the_account_does():
    ada = member(analytics=True)
    db.in_session(privacy.set_marketing, ada.user_id, True)  # the opt-in, recorded with its time
    with db.session() as s:
        usage.record(s, "feature.copy", workspace_id=ada.workspace_id, user_id=ada.user_id)
    days(400)
    db.in_session(service.purge_usage_events)
    assert raw(f"SELECT kind FROM usage_events WHERE user_id = {ada.user_id}") == [("privacy.marketing_on",)]


async def test_a_rule_works_in_batches(monkeypatch):
    ada = member(analytics=True)
    with db.session() as s:
        for _ in range(5):
            usage.record(s, "feature.copy", workspace_id=ada.workspace_id, user_id=ada.user_id)
    days(366)
    with configured(monkeypatch, OMNIPOSTR_RETENTION_BATCH_SIZE="2"):
        counts = db.in_session(service.purge_usage_events)
    assert counts.count >= 5 and counts.batches == (counts.count + 1) // 2
    assert raw("SELECT count(*) FROM usage_events") == [(0,)]


# --- RET-4 -----------------------------------------------------------------------------------------


def warnings(to: str) -> list[str]:
    return [m.subject for m in mails(to) if "will be deleted on" in m.subject]


@pytest.mark.promise("RET-4")
async def test_an_unused_account_is_warned_once_then_deleted_90_days_after_it_ended_and_a_sign_in_saves_it():
    ada, bob = await seeded()  # Bob is a member of Ada's workspace, with a post of his there
    # no sign-in for 365 days ends a free account; it goes 90 days later; the warning 14 days before
    days(440)
    assert db.in_session(service.warn_inactive_accounts).count == 0
    days(2)  # 442 days: 13 days before the deletion day (455), within the 14
    assert db.in_session(service.warn_inactive_accounts, dry_run=True).count == 2
    assert warnings("ada@example.com") == []
    assert run("retention.account_warnings").items == 2
    assert run("retention.account_warnings").items == 0  # once
    (subject,) = warnings("ada@example.com")
    assert len(warnings("bob@example.com")) == 1
    message = mails("ada@example.com")[-1].text_body
    assert "365 days" in message and "90 days later" in message and "sign in" in message

    actor_for(bob.user_id)  # Bob signs in after the warning: his account is in use again
    with db.session() as s:
        bob_user = s.get(User, bob.user_id)
        (account,) = [d for d in service.due_dates(s, bob.user_id) if d.what == "account"]
        assert account.when == service.last_active(bob_user) + service._days(455)
        (ada_account,) = [d for d in service.due_dates(s, ada.user_id) if d.what == "account"]
        deletion_day = ada_account.when
    assert deletion_day.strftime("%B") in subject

    days(13)  # 455 days: the deletion day is the later of 455 days and 14 days after the warning (456)
    assert run("privacy.inactive_accounts").items == 0
    days(2)  # 457 days
    assert db.in_session(erasure.expire_inactive, dry_run=True).count == 1
    assert run("privacy.inactive_accounts").items == 1
    run("privacy.erasure")

    with db.session() as s:
        assert s.get(User, ada.user_id) is None
        assert referring_rows(s, ada.user_id, "ada@example.com") == {}
        assert s.get(User, bob.user_id) is not None
        ws = s.get(Workspace, ada.workspace_id)  # her shared workspace went to the member in it
        assert ws is not None and ws.owner_id == bob.user_id
    notice = mails("ada@example.com")[-1]
    assert notice.subject == "Your OmniPostr account is deleted" and "Nobody had signed in" in notice.text_body
    assert run("privacy.inactive_accounts").items == 0


async def test_staff_accounts_and_accounts_being_deleted_are_not_warned():
    ada = member()
    bob = member("bob@example.com", "Harbour Works")
    with db.session() as s:
        s.get(User, ada.user_id).is_admin = True
        erasure.request_deletion(s, bob.user_id, password=PASSWORD)
    days(450)
    assert db.in_session(service.warn_inactive_accounts).count == 0


# --- RET-6 -----------------------------------------------------------------------------------------


def _policy_rows() -> dict[str, str]:
    labels = ("Original Content", "Generated Content", "Generation History", "Account Data")
    return {lab: b.text[len(lab) + 1:] for b in policy.blocks() for lab in labels if b.text.startswith(lab + " ")}


@pytest.mark.promise("RET-6")
async def test_a_period_changed_in_the_settings_changes_the_words_and_the_jobs(monkeypatch):
    # the defaults read exactly as the published policy
    assert policy.blocks() == policy._blocks()
    assert _policy_rows() == {
        "Original Content": "90 days or until you delete it.", "Generated Content": "Indefinitely, unless you delete it.",
        "Generation History": "12 months.", "Account Data": "For the duration of your subscription + 90 days.",
    }
    ada = member()
    gen = await generated(ada)
    env = {"OMNIPOSTR_RETENTION_SOURCE_DAYS": "30", "OMNIPOSTR_RETENTION_HISTORY_DAYS": "730",
           "OMNIPOSTR_RETENTION_ACCOUNT_DAYS": "60", "OMNIPOSTR_RETENTION_USAGE_DAYS": "180"}
    with configured(monkeypatch, **env):
        assert _policy_rows() == {
            "Original Content": "30 days or until you delete it.", "Generated Content": "Indefinitely, unless you delete it.",
            "Generation History": "24 months.", "Account Data": "For the duration of your subscription + 60 days.",
        }
        kept_for = {h.what: h.retention for h in db.in_session(privacy.what_we_hold, ada.user_id)}
        assert kept_for[next(w for w in kept_for if w.startswith("The articles"))] == \
            "30 days after you added it, or until you delete it."
        assert inventory.retention("history") == "24 months."
        assert inventory.retention("usage") == "180 days, or until you delete your account; the records of your privacy choices while your account is open."
        assert "60 days after your subscription ends" in inventory.retention("account")

        days(29)
        assert db.in_session(service.purge_source_text).count == 0
        days(2)  # 31 days: gone under the configured 30, where the default would keep it 90
        assert db.in_session(service.purge_source_text).count == 1
        days(366 - 31)  # 366 days: history kept under the configured 730
        assert db.in_session(service.purge_history).count == 0
        with db.session() as s:
            (history,) = [d for d in service.due_dates(s, ada.user_id) if d.what == "history"]
            assert history.when == generation(gen.id).created_at + service._days(730)
    assert db.in_session(service.purge_history).count == 1  # the default 365 again
