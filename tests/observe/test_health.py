"""GET /health and GET /metrics over HTTP (through the ASGI stack with the middleware)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from omnipostr import db, jobs, observe
from omnipostr.db import make_engine
from omnipostr.jobs import registry, runner
from omnipostr.notify import service as outbox
from omnipostr.notify.smtp import LogTransport
from omnipostr.settings import reset_settings
from tests.observe.conftest import build_app


@pytest.fixture
def jobs_enabled(monkeypatch):
    monkeypatch.setenv("OMNIPOSTR_JOBS_ENABLED", "true")
    reset_settings()
    yield
    runner.shutdown()
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def operator(monkeypatch):
    """The operator's token is configured; returns the header that carries it."""
    monkeypatch.setenv("OMNIPOSTR_METRICS_TOKEN", "op-token-for-tests-0123456789")
    reset_settings()
    yield {"Authorization": "Bearer op-token-for-tests-0123456789"}
    monkeypatch.undo()
    reset_settings()


@pytest.mark.promise("IMP-1")
async def test_health_reports_database_and_scheduler(client):
    r = await client.get("/health")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["latency_ms"] >= 0
    assert body["scheduler"]["enabled"] is False  # the test settings switch jobs off
    assert body["scheduler"]["lease"] == {"active": False} and body["scheduler"]["jobs"] == {}


async def test_public_health_names_no_host_process_or_error(client, jobs_enabled, operator):
    sched = runner.start("build-host-7:4242", jobs=[], lease_seconds=30)
    registry.register("test.health_secret", lambda: 1 / 0, seconds=3600)
    try:
        jobs.run_now("test.health_secret")
        public = await client.get("/health")
        wrong = await client.get("/health", headers={"Authorization": "Bearer guess"})
        detailed = await client.get("/health", headers=operator)
    finally:
        registry.unregister("test.health_secret")
    for r in (public, wrong):
        assert "build-host-7" not in r.text and "4242" not in r.text and "ZeroDivision" not in r.text
        assert r.json()["scheduler"]["jobs"]["test.health_secret"]["outcome"] == "failed"
    assert detailed.json()["scheduler"]["lease"]["holder"] == sched.holder
    assert "ZeroDivisionError" in detailed.text


async def test_metrics_ask_for_the_operator_token_when_one_is_set(client, operator):
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
    r = await client.get("/metrics", headers=operator)
    assert r.status_code == 200 and "omnipostr_http_request_duration_seconds" in r.text


@pytest.mark.promise("IMP-1")
async def test_health_shows_lease_holder_and_last_runs_and_a_failing_job(client, jobs_enabled, operator):
    client.headers.update(operator)
    r = (await client.get("/health")).json()
    assert r["status"] == "degraded"  # jobs on, but nobody runs them
    assert r["scheduler"]["lease"]["active"] is False

    sched = runner.start("omnipostr-test", jobs=[], lease_seconds=30)
    registry.register("test.health_ok", lambda: 4, seconds=3600)
    registry.register("test.health_bad", lambda: 1 / 0, seconds=3600)
    try:
        jobs.run_now("test.health_ok")
        r = (await client.get("/health")).json()
        assert r["status"] == "ok"
        lease = r["scheduler"]["lease"]
        assert lease["holder"] == sched.holder and lease["active"] is True
        assert lease["held_by_this_process"] is True and lease["expires_at"].endswith("Z")
        assert r["scheduler"]["running_here"] is True
        ok = r["scheduler"]["jobs"]["test.health_ok"]
        assert ok["outcome"] == "ok" and ok["items"] == 4 and 0 <= ok["age_seconds"] < 60

        jobs.run_now("test.health_bad")
        r = (await client.get("/health")).json()
        assert r["status"] == "degraded"
        bad = r["scheduler"]["jobs"]["test.health_bad"]
        assert bad["outcome"] == "failed" and bad["error"].startswith("ZeroDivisionError")
    finally:
        registry.unregister("test.health_ok")
        registry.unregister("test.health_bad")


@pytest.mark.promise("IMP-1")
async def test_health_is_503_when_the_database_is_unreachable():
    url = "postgresql+psycopg://omni:S3cretPw0rd@127.0.0.1:1/omnipostr"
    engine = make_engine(url)
    app = build_app(observe.make_routes(lambda: engine))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/health")
    finally:
        engine.dispose()
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "down" and body["database"] == {"ok": False, "error": "unreachable"}
    assert "S3cretPw0rd" not in r.text and "127.0.0.1" not in r.text


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.promise("LOG-1")
async def test_metrics_expose_latency_histograms_by_route_template(client):
    labels = {"method": "GET", "route": "/items/{item_id}", "status": "200"}
    before = _sample("omnipostr_http_request_duration_seconds_count", **labels)
    for i in (101, 102, 103):
        assert (await client.get(f"/items/{i}")).status_code == 200
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "# TYPE omnipostr_http_request_duration_seconds histogram" in text
    assert 'omnipostr_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/items/{item_id}",status="200"}' in text
    assert "/items/101" not in text  # templates, never raw paths
    assert _sample("omnipostr_http_request_duration_seconds_count", **labels) == before + 3


@pytest.mark.promise("IMP-1")
async def test_metrics_count_events_jobs_and_outbox_depth(client):
    observe.count_event("test.feature_used")
    observe.count_event("Not A Valid Name!")
    with db.session() as s:
        for i in range(3):
            outbox.enqueue(s, "notice", f"u{i}@example.com", {"subject": "Hi", "paragraphs": ["x"]})
    outbox.send_due(db.session, batch=1, transport=LogTransport())
    registry.register("test.metrics_job", lambda: 1, seconds=3600)
    try:
        jobs.run_now("test.metrics_job")
    finally:
        registry.unregister("test.metrics_job")

    text = (await client.get("/metrics")).text
    assert 'omnipostr_events_total{event="test.feature_used"}' in text
    assert 'omnipostr_events_total{event="invalid"}' in text
    assert "omnipostr_outbox_queue_depth 2.0" in text
    assert 'omnipostr_job_runs_total{job="test.metrics_job",outcome="ok"}' in text
