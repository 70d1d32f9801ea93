"""Several processes share the pages' state through Redis: it works (a reload comes back
from Redis), and after a person's session of use Redis holds neither their session token nor
a word of what they wrote. (Its own module: one app runs at a time, as the browser suite's
apps share a front-end build.)"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import _smtp_env
from tests.e2e.liveapp import LiveApp, free_port, start_app, stop_app
from tests.e2e.test_storage import _needles, _session_of_use

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """Redis at 127.0.0.1:6379 (the machine's), a database of its own; or, when none
    answers, a redis-server started for this module."""
    proc = None
    port = 6379
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        server = shutil.which("redis-server")
        if not server:
            pytest.skip("no Redis on 127.0.0.1:6379 and no redis-server to start")
        port = free_port()
        proc = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no"])
        time.sleep(0.5)
    url = f"redis://127.0.0.1:{port}/11"
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    if proc is not None:
        proc.terminate()


@pytest.fixture(scope="module")
def redis_app(smtp, redis_url, tmp_path_factory) -> Iterator[LiveApp]:
    app = start_app({**_smtp_env(smtp), "REFLEX_REDIS_URL": redis_url}, tmp_path_factory.mktemp("redis-app"))
    yield app
    stop_app(app.proc)


def _all_of_redis(url: str) -> bytes:
    import redis

    r = redis.Redis.from_url(url)
    out = []
    for key in r.scan_iter(count=500):
        kind = r.type(key)
        out.append(key)
        if kind == b"string":
            out.append(r.get(key) or b"")
        elif kind == b"hash":
            out += [b for kv in r.hgetall(key).items() for b in kv]
        elif kind == b"list":
            out += r.lrange(key, 0, -1)
        elif kind == b"set":
            out += list(r.smembers(key))
        elif kind == b"zset":
            out += [m for m, _ in r.zrange(key, 0, -1, withscores=True)]
    return b"\n".join(out)


def test_with_redis_the_state_is_shared_and_sealed(page: Page, smtp, redis_app, redis_url):
    token = _session_of_use(page, smtp, "ruth@example.com")
    page.reload()  # the page's state comes back from Redis
    expect(page.get_by_role("heading", name="Compose", level=1)).to_be_visible()
    stored = _all_of_redis(redis_url)
    assert len(stored) > 1000 and re.search(rb"omnipostr", stored)  # our states are there
    hits = [n.decode()[:12] for n in _needles(token) if n in stored]
    assert hits == [], f"Redis holds {hits}"
    assert b"omnipostr_session=" not in stored  # no cookie header either
