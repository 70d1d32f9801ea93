"""The production shape: two web processes behind one address, sharing Redis and PostgreSQL,
and separate generation workers. A generation started through one web process is watched to
the end through the other, and the worker writing it is killed mid-way: another worker
finishes it, with every platform written once and the month's count taken once. The web
processes do none of the generation's CPU work.

(Its own module: its apps use the front-end build the other modules' apps use, one at a time.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from fakes.balancer import Balancer
from omnipostr.settings import PROJECT_ROOT
from tests.e2e.conftest import _smtp_env
from tests.e2e.helpers import sign_up
from tests.e2e.liveapp import LiveApp, free_port, start_app, stop_app
from tests.e2e.test_compose import paste_and_generate
from tests.e2e.test_storage_redis import redis_url  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

PG_ADMIN = os.environ.get("OMNIPOSTR_CI_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    name = f"omnipostr_shape_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"no PostgreSQL at {PG_ADMIN} ({type(e).__name__})")
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnipostr.repurpose.worker"], cwd=PROJECT_ROOT, env=env,
        stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,  # noqa: SIM115
    )
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)
    return proc


def _tree(proc: subprocess.Popen) -> set[int]:
    p = psutil.Process(proc.pid)
    return {p.pid, *(c.pid for c in p.children(recursive=True))}


@dataclass
class Shape:
    balancer: Balancer
    web_a: LiveApp
    web_b: LiveApp
    env: dict[str, str]
    tmp: Path


@pytest.fixture(scope="module")
def shape(smtp, redis_url, pg_url, tmp_path_factory) -> Iterator[Shape]:  # noqa: F811
    """Two web processes behind one address, on PostgreSQL and Redis, with no worker in them."""
    tmp = tmp_path_factory.mktemp("shape")
    port_a, port_b = free_port(), free_port()
    balancer = Balancer([port_a, port_b])
    env = {
        **_smtp_env(smtp),
        "OMNIPOSTR_DATABASE_URL": pg_url,
        "REFLEX_REDIS_URL": redis_url,
        "OMNIPOSTR_BASE_URL": balancer.url,
        "OMNIPOSTR_GENERATION_WORKER": "off",
        "OMNIPOSTR_TASK_LEASE_SECONDS": "3",
        "OMNIPOSTR_OFFLINE_STREAM_DELAY": "0.25",
    }
    subprocess.run([sys.executable, "-m", "omnipostr.migrate"], cwd=PROJECT_ROOT, env={**os.environ, **env}, check=True)
    web_a = start_app(env, tmp, port=port_a)
    try:
        web_b = start_app(env, tmp, port=port_b)
    except Exception:
        stop_app(web_a.proc)
        raise
    yield Shape(balancer, web_a, web_b, env, tmp)
    stop_app(web_a.proc)
    stop_app(web_b.proc)


@pytest.fixture(scope="module")
def shape_app(shape: Shape) -> LiveApp:
    """The app as the browser sees it: the balancer's address."""
    return LiveApp(url=shape.balancer.url, log_path=shape.web_a.log_path, proc=shape.web_a.proc, env=shape.env)


def test_two_web_processes_and_workers_one_dies_nothing_is_lost_or_doubled(page: Page, smtp, shape, shape_app, pg_url):
    balancer, tmp = shape.balancer, shape.tmp
    port_a, port_b = balancer.targets
    worker_env = {**os.environ, **shape.env, "PYTHONUNBUFFERED": "1"}
    first = _worker(worker_env, tmp / "worker-1.log")
    second = None
    db = create_engine(pg_url)
    try:
        page.set_default_timeout(30_000)
        page.goto("/")  # every request of this page goes to web process A for now
        sign_up(page, smtp, email="pat@example.com")
        paste_and_generate(page, add=("Mastodon", "Facebook", "TikTok", "YouTube Shorts", "Newsletter"))
        page.wait_for_url(re.compile(r".*/app\?g=\d+"))
        gid = int(re.search(r"g=(\d+)", page.url).group(1))
        expect(page.locator("[data-status=done]").first).to_be_visible(timeout=60_000)

        def stored() -> list[int]:
            with db.connect() as c:
                return c.execute(text("SELECT stored FROM generation_tasks WHERE generation_id = :g"), {"g": gid}).scalar_one()

        done_before = stored()
        assert 0 < len(done_before) < 10, done_before
        first.send_signal(signal.SIGKILL)  # the worker dies mid-generation
        first.wait(10)

        balancer.target = port_b  # from now on, web process B serves the page
        served_by_b = balancer.connections[port_b]
        page.reload()
        second = _worker(worker_env, tmp / "worker-2.log")
        expect(page.get_by_text("A worker stopped while writing this")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp / "resuming.png"))
        expect(page.locator("[data-status=done]")).to_have_count(10, timeout=90_000)
        page.screenshot(path=str(tmp / "after-takeover.png"), full_page=True)
        assert balancer.connections[port_b] > served_by_b

        with db.connect() as c:
            task = c.execute(text("SELECT status, claims, stored, cpu_pids FROM generation_tasks WHERE generation_id = :g"), {"g": gid}).one()
            revisions = c.execute(text(
                "SELECT r.variant_id, count(*) FROM variant_revisions r JOIN variants v ON v.id = r.variant_id "
                "WHERE v.generation_id = :g GROUP BY r.variant_id"), {"g": gid}).all()
            statuses = c.execute(text("SELECT status FROM variants WHERE generation_id = :g"), {"g": gid}).scalars().all()
            counted = c.execute(text("SELECT generations FROM usage_periods")).scalar_one()
            status = c.execute(text("SELECT status FROM generations WHERE id = :g"), {"g": gid}).scalar_one()
        assert status == "done" and statuses == ["done"] * 10
        assert task.status == "done" and task.claims == 2
        assert sorted(task.stored) == sorted(set(task.stored)) and len(task.stored) == 10
        assert len(revisions) == 10 and {n for _, n in revisions} == {1}  # every platform written once
        assert counted == 1
        web_pids = _tree(shape.web_a.proc) | _tree(shape.web_b.proc)
        assert task.cpu_pids and not set(task.cpu_pids) & web_pids  # no CPU work in a web process
        assert second.pid in task.cpu_pids
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)
        db.dispose()
