"""The browser suite: the real app, started the way ``make run`` starts it (``reflex run --env
prod --single-port``), on a free port, with this run's temporary database (shared with the
test process, which reads it directly), an SMTP sink for mail, and Debian's Chromium.

Run it as its own pytest invocation (``make test`` does): Playwright's sync API and the
asyncio tests of the rest of the suite do not share one process well.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from fakes.smtp_sink import SmtpSink
from omnipostr.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("OMNIPOSTR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveApp:
    url: str
    log_path: Path
    proc: subprocess.Popen
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _start_app(extra_env: dict[str, str], tmp: Path) -> LiveApp:
    port = free_port()
    url = f"http://localhost:{port}"
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "OMNIPOSTR_BASE_URL": url,
        "OMNIPOSTR_JOBS_ENABLED": "true",
        "OMNIPOSTR_OUTBOX_INTERVAL_SECONDS": "0.5",
        "REFLEX_USE_NPM": "1",
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    log_path = tmp / f"app-{port}.log"
    logf = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [str(venv_bin / "reflex"), "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port), "--loglevel", "info"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=logf,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200 and httpx.get(url + "/", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    else:
        _stop(proc)
        raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-4000:]}")
    return LiveApp(url=url, log_path=log_path, proc=proc, env=env)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def live_app(smtp, tmp_path_factory) -> Iterator[LiveApp]:
    app = _start_app(
        {
            "OMNIPOSTR_SMTP_HOST": "127.0.0.1",
            "OMNIPOSTR_SMTP_PORT": str(smtp.port),
            "OMNIPOSTR_SMTP_STARTTLS": "false",
        },
        tmp_path_factory.mktemp("app"),
    )
    yield app
    _stop(app.proc)


@pytest.fixture(autouse=True)
def _clear_mail(smtp):
    smtp.clear()
    yield


@pytest.fixture(scope="session")
def base_url(live_app) -> str:
    return live_app.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def mail_link(smtp: SmtpSink, to: str, contains: str, timeout: float = 20.0) -> str:
    """The first link in the newest mail to ``to`` whose link contains ``contains``."""
    msg = smtp.wait_for(
        lambda m: to.lower() in str(m["To"]).lower() and contains in _text(m), timeout=timeout
    )
    m = re.search(r"https?://\S*" + re.escape(contains) + r"\S*", _text(msg))
    assert m, _text(msg)
    return m.group(0).rstrip(".,)>")


def _text(msg) -> str:
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    return part.get_content()


@pytest.fixture
def new_page(browser, live_app, browser_context_args):
    """Another browser (its own cookies), e.g. a teammate or a second device."""
    contexts = []

    def make(**kwargs):
        ctx = browser.new_context(**{**browser_context_args, "base_url": live_app.url, **kwargs})
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
