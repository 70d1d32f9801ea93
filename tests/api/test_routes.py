"""The REST API over HTTP, as a business's CMS calls it: a key, a generation started and read
back, problem documents for every refusal, the plan's quota (402) and rate limits (429)
before anything is done, and one workspace's key never reaching another's data."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts import session_header
from omnipostr.billing.models import UsagePeriod
from omnipostr.http_security import security_headers, upload_limit
from omnipostr.privacy import consent
from omnipostr.repurpose import queue, runner
from omnipostr.repurpose.models import Generation
from omnipostr.settings import reset_settings
from omnipostr.usage.models import UsageEvent
from tests.api.helpers import key_for, on_plan, owner, teammate
from tests.repurpose.helpers import ARTICLE

BASE = "http://localhost:3000"


@pytest.fixture
async def http():
    from omnipostr.omnipostr import api

    app = security_headers(upload_limit(session_header.middleware(api)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def work_off() -> None:
    """What a generation worker does with the queue: take each task and run it."""
    owner_id = runner.worker_id()
    while (task_id := await asyncio.to_thread(queue.claim, db.session, owner_id, 10.0)) is not None:
        await runner.run_task(task_id, owner_id)


def problem(r: httpx.Response, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == f"urn:omnipostr:problem:{slug}" and body["status"] == status
    assert body["title"] and body["detail"]
    return body


@pytest.mark.promise("API-1", "USE-1")
async def test_a_cms_starts_a_generation_and_reads_its_posts(http):
    ada = owner()
    db.in_session(lambda s: consent.record(s, consent_id=None, user_id=ada.user_id, analytics=True, preferences=False))
    key = key_for(ada)
    r = await http.post("/api/v1/generations", headers=auth(key),
                        json={"text": ARTICLE, "platforms": ["x", "linkedin"], "tone": "professional"})
    assert r.status_code == 202, r.text
    started = r.json()
    assert r.headers["location"] == started["url"] == f"/api/v1/generations/{started['id']}"
    assert started["platforms"] == ["x", "linkedin"]
    assert r.headers["ratelimit-limit"] == "60" and int(r.headers["ratelimit-remaining"]) == 59

    await work_off()
    r = await http.get(started["url"], headers=auth(key))
    assert r.status_code == 200
    gen = r.json()
    assert gen["generation"]["status"] == "done"
    assert {p["platform"] for p in gen["posts"]} == {"x", "linkedin"}
    assert all(p["text"] for p in gen["posts"])
    assert [p["status"] for p in gen["progress"]] == ["done", "done"]

    r = await http.get("/api/v1/generations", headers=auth(key))
    assert [i["id"] for i in r.json()["items"]] == [started["id"]]
    r = await http.get("/api/v1/generations", headers=auth(key), params={"q": "repurpose", "platform": "x"})
    assert [i["id"] for i in r.json()["items"]] == [started["id"]]
    with db.session() as s:  # USE-1: each call is a usage event, with no content
        calls = s.exec(select(UsageEvent).where(UsageEvent.kind == "api.call")).all()
    assert [(e.detail["route"], e.detail["status"]) for e in calls] == [
        ("POST /api/v1/generations", 202), ("GET /api/v1/generations/{id}", 200),
        ("GET /api/v1/generations", 200), ("GET /api/v1/generations", 200)]
    assert all(ARTICLE[:40] not in str(e.detail) for e in calls)


@pytest.mark.promise("API-1")
async def test_no_key_a_forged_key_and_a_revoked_key_get_401(http):
    from omnipostr.api import keys

    ada = owner()
    key = key_for(ada)
    body = problem(await http.get("/api/v1/generations"), 401, "unauthenticated")
    assert "Bearer" in body["detail"]
    r = await http.get("/api/v1/generations", headers=auth(key[:-2] + "xx"))
    problem(r, 401, "invalid-key")
    assert "invalid_token" in r.headers["www-authenticate"]
    assert (await http.get("/api/v1/generations", headers=auth(key))).status_code == 200
    (view,) = db.in_session(keys.list_keys, ada)
    db.in_session(keys.revoke_key, ada, view.id)
    problem(await http.get("/api/v1/generations", headers=auth(key)), 401, "invalid-key")


@pytest.mark.promise("SVC-3")
async def test_a_key_sees_only_its_own_workspace(http):
    ada, eve = owner(), owner("eve@example.com", team="Eve's")
    ada_key, eve_key = key_for(ada), key_for(eve)
    r = await http.post("/api/v1/generations", headers=auth(ada_key), json={"text": ARTICLE, "platforms": ["x"]})
    gid = r.json()["id"]
    await work_off()
    problem(await http.get(f"/api/v1/generations/{gid}", headers=auth(eve_key)), 404, "not-found")
    assert (await http.get("/api/v1/generations", headers=auth(eve_key))).json()["items"] == []
    assert (await http.get(f"/api/v1/generations/{gid}", headers=auth(ada_key))).status_code == 200
    # a key an admin made acts in the workspace: it sees the owner's generation, as the library does
    cleo = teammate(ada, "cleo@example.com", role="admin")
    r = await http.get("/api/v1/generations", headers=auth(key_for(cleo)))
    assert [i["id"] for i in r.json()["items"]] == [gid]


async def test_scopes_and_plans_are_enforced_before_anything_is_done(http):
    ada = owner()
    reader = key_for(ada, scopes=("generations:read",))
    r = await http.post("/api/v1/generations", headers=auth(reader), json={"text": ARTICLE, "platforms": ["x"]})
    body = problem(r, 403, "insufficient-scope")
    assert "generations:write" in body["detail"] and 'scope="generations:write"' in r.headers["www-authenticate"]
    on_plan(ada, "free")
    body = problem(await http.get("/api/v1/generations", headers=auth(reader)), 403, "plan-without-api")
    assert body["plan"] == "Free" and body["upgrade_url"].endswith("/billing")
    with db.session() as s:
        assert s.exec(select(Generation)).all() == []


@pytest.mark.promise("API-2")
async def test_a_burst_over_the_keys_limit_gets_429_with_its_headers_and_nothing_half_done(http):
    ada = owner()  # Pro: 60 requests a minute per key
    key = key_for(ada)
    answers = await asyncio.gather(*(
        http.post("/api/v1/generations", headers=auth(key), json={"text": ARTICLE, "platforms": ["x"]})
        for _ in range(65)))
    assert sorted(r.status_code for r in answers) == [202] * 60 + [429] * 5
    refused = [r for r in answers if r.status_code == 429]
    for r in refused:
        body = problem(r, 429, "rate-limited")
        assert "60 requests a minute" in body["detail"]
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["ratelimit-limit"] == "60" and r.headers["ratelimit-remaining"] == "0"
        assert 1 <= int(r.headers["ratelimit-reset"]) <= 60
    with db.session() as s:  # exactly the admitted starts happened: no generation, no unit for the refused
        assert len(s.exec(select(Generation)).all()) == 60
        assert s.exec(select(UsagePeriod)).one().generations == 60


@pytest.mark.promise("API-2")
async def test_one_address_is_limited_across_keys_and_workspaces(http, monkeypatch):
    monkeypatch.setenv("OMNIPOSTR_API_IP_REQUESTS_PER_MINUTE", "5")
    reset_settings()
    try:
        keys_ = [key_for(owner(f"user{i}@example.com", team=f"Team {i}")) for i in range(3)]
        codes = [(await http.get("/api/v1/generations", headers=auth(keys_[i % 3]))).status_code for i in range(7)]
        assert codes == [200] * 5 + [429] * 2
        r = await http.get("/api/v1/generations")  # even without a key: the address is over
        body = problem(r, 429, "rate-limited")
        assert body["detail"].startswith("One address may make 5 requests a minute")
    finally:
        monkeypatch.undo()
        reset_settings()


async def test_a_used_up_quota_is_402_with_where_to_upgrade(http):
    from omnipostr.billing import quota

    ada = owner()  # Pro: 500 generations a period
    key = key_for(ada)
    with db.session() as s:
        for _ in range(500):
            quota.consume(s, ada.workspace_id)
        s.commit()
    r = await http.post("/api/v1/generations", headers=auth(key), json={"text": ARTICLE, "platforms": ["x"]})
    body = problem(r, 402, "quota-exceeded")
    assert body["plan"] == "Pro" and body["upgrade_url"].endswith("/billing")
    assert "500" in body["detail"]
    with db.session() as s:
        assert s.exec(select(Generation)).all() == []


async def test_bad_requests_get_a_clear_problem_and_lose_nothing(http):
    ada = owner()
    key = key_for(ada)
    for payload, field in (
        (b"not json", "body"),
        (b'["x"]', "body"),
        (b'{"text": 5, "platforms": ["x"]}', "text"),
        (b'{"text": "Hello there.", "platforms": "x"}', "platforms"),
        (b'{"text": "Hello there.", "platforms": ["x"], "colour": "red"}', "colour"),
        (b'{"text": "", "platforms": ["x"]}', "text"),
        (b'{"text": "Some words here.", "platforms": ["myspace"]}', "platforms"),
        (b'{"text": "Some words here.", "platforms": ["x"], "hashtags": "yes"}', "hashtags"),
    ):
        r = await http.post("/api/v1/generations", headers={**auth(key), "content-type": "application/json"}, content=payload)
        assert problem(r, 422, "invalid-request").get("field") == field, (payload, r.json())
    problem(await http.get("/api/v1/generations", headers=auth(key), params={"limit": "500"}), 422, "invalid-request")
    problem(await http.get("/api/v1/generations", headers=auth(key), params={"platform": "myspace"}), 422, "invalid-request")
    problem(await http.get("/api/v1/generations/abc", headers=auth(key)), 404, "not-found")
    with db.session() as s:
        assert s.exec(select(Generation)).all() == []


async def test_restricted_processing_is_refused_over_the_api_too(http):
    from omnipostr.privacy import service as privacy

    ada = owner()
    key = key_for(ada)
    db.in_session(privacy.set_restriction, ada.user_id, True)
    r = await http.post("/api/v1/generations", headers=auth(key), json={"text": ARTICLE, "platforms": ["x"]})
    problem(r, 403, "processing-restricted")


async def test_the_openapi_document_describes_every_route():
    from omnipostr.api import routes
    from omnipostr.api.openapi import document

    doc = document(BASE)
    assert doc["openapi"].startswith("3.1") and doc["servers"] == [{"url": BASE + "/api/v1"}]
    described = {(m.upper(), "/api/v1" + p) for p, ops in doc["paths"].items() for m in ops}
    served = {(m, r.path) for r in routes.routes if r.path != "/api/v1/openapi.json" for m in r.methods - {"HEAD"}}
    assert described == served
