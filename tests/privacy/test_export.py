"""A person's copy of their data: every kind we hold, valid against its published schema,
nothing of anyone else; made by a job, announced by email, downloadable by its owner only and
only until it expires."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import jsonschema
import pytest
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.models import Membership
from omnipostr.privacy import consent, export, inventory, routes, service
from omnipostr.privacy.models import DataExport
from omnipostr.repurpose import runner
from omnipostr.repurpose.engines.offline import OfflineEngine
from tests.accounts.helpers import mails
from tests.repurpose.helpers import member, request, start

SCHEMA = json.loads(routes.SCHEMA_FILE.read_text())
BOB_TEXT = """Bob's private notes on the harbour project

The harbour crane fails every Tuesday at dawn, and nobody has told the insurer yet. Bob thinks
the cable supplier cut corners. The repair will cost forty thousand euros.
"""


async def seeded():
    """Ada with a generation in her workspace; Bob, in a workspace of his own and in Ada's,
    with content of his own in both."""
    ada = member("ada@example.com", "Analytical Engines")
    bob = member("bob@example.com", "Harbour Works")
    for who in (ada, bob):  # both agreed to usage analytics, so there are usage events to export
        with db.session() as s:
            consent.record(s, consent_id=None, user_id=who.user_id, analytics=True, preferences=False)
    gen = start(ada, request(platforms=["x", "linkedin"], title="Small teams"))
    await runner.run(gen.id, engine=OfflineEngine())
    with db.session() as s:
        s.add(Membership(workspace_id=ada.workspace_id, user_id=bob.user_id, role="member"))
        s.commit()
    bob_there = accounts.Actor(user_id=bob.user_id, workspace_id=ada.workspace_id, role="member")
    for who in (bob, bob_there):
        g = start(who, request(text=BOB_TEXT, platforms=["bluesky"], title="Harbour crane"))
        await runner.run(g.id, engine=OfflineEngine())
    return ada, bob


def doc_of(actor) -> dict:
    with db.session() as s:
        return export.document(s, s.get(accounts.User, actor.user_id))


@pytest.mark.promise("RGT-1", "GDPR-3", "XFR-1")
async def test_the_export_holds_every_kind_of_data_valid_against_its_schema_and_nothing_of_anyone_else():
    ada, bob = await seeded()
    doc = doc_of(ada)
    jsonschema.validate(doc, SCHEMA)
    rows = {h["table"]: h["rows"] for h in doc["holdings"]}
    assert rows["users"][0]["email"] == "ada@example.com" and rows["users"][0]["has_password"] is True
    assert {w["name"] for w in rows["workspaces"]} == {"Analytical Engines"}
    assert rows["sessions"] and rows["sessions"][0]["ip"] == "10.0.0.1"
    assert [g["title"] for g in rows["generations"]] == ["Small teams"]
    assert {v["platform"] for v in rows["variants"]} == {"x", "linkedin"}
    assert all(v["posts"] for v in rows["variants"]) and rows["variant_revisions"]
    assert rows["sources"][0]["text"].startswith("Why small teams")
    assert rows["usage_events"] and rows["policy_acceptances"]
    assert rows["outbox_messages"] and all("text_body" not in m for m in rows["outbox_messages"])
    assert doc["regions"] == [{"workspace_id": ada.workspace_id, "workspace": "Analytical Engines",
                               "region": "us", "region_name": "United States"}]
    flat = json.dumps(doc, ensure_ascii=False)
    for secret in ("password_hash", "token_hash", "$argon2", "bob@example.com", "harbour", "Harbour", "insurer"):
        assert secret not in flat, secret


@pytest.mark.promise("RGT-2")
async def test_a_changed_name_shows_in_the_next_export():
    ada = member()
    with db.session() as s:
        accounts.update_profile(s, ada, name="Ada King")
        s.commit()
    assert doc_of(ada)["holdings"][0]["rows"][0]["name"] == "Ada King"


async def test_the_copy_is_made_by_a_job_announced_by_email_and_only_its_owner_downloads_it():
    ada, bob = await seeded()
    asked = db.in_session(service.request_export, ada.user_id)
    assert db.in_session(service.request_export, ada.user_id).id == asked.id  # one at a time
    assert db.in_session(service.download, ada.user_id, asked.id) is None  # not made yet
    assert db.in_session(service.build_pending) == 1
    [view] = db.in_session(service.exports_of, ada.user_id)
    assert view.status == "ready" and view.expires_at > clock.now() + timedelta(days=6)
    assert [m.subject for m in mails("ada@example.com", "notice")][-1].endswith("data is ready to download")
    with db.session() as s:
        stored = s.get(DataExport, asked.id).archive
    assert b"ada@example.com" not in stored and b"Small teams" not in stored  # sealed at rest

    data = db.in_session(service.download, ada.user_id, asked.id)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        doc = json.loads(z.read("omnipostr-data.json"))
        csv_sources = z.read("content/sources.csv").decode("utf-8-sig")
    jsonschema.validate(doc, SCHEMA)
    assert {"README.txt", "account/users.csv", "generated/variants.csv", "device/sessions.csv"} <= names
    assert "Why small teams" in csv_sources
    assert db.in_session(service.download, bob.user_id, asked.id) is None  # someone else's

    clock.advance(timedelta(days=8))
    try:
        assert db.in_session(service.download, ada.user_id, asked.id) is None  # its time is up
        assert db.in_session(service.exports_of, ada.user_id) == []
        assert db.in_session(service.purge_expired_exports) == 1
        with db.session() as s:
            assert s.exec(select(DataExport)).all() == []
    finally:
        clock.reset()


@pytest.mark.promise("CCPA-1")
async def test_what_we_hold_counts_exactly_what_the_export_gives():
    ada, bob = await seeded()
    with db.session() as s:
        for who in (ada, bob):
            user = s.get(accounts.User, who.user_id)
            for h in inventory.holdings():
                assert h.count(s, user) == len(h.rows(s, user)), h.table
        held = {h.what: h.count for h in service.what_we_hold(s, ada.user_id)}
    assert held[next(w for w in held if w.startswith("The posts made"))] == 2
