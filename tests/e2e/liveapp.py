"""Start the real app the way ``make run`` does (``reflex run --env prod --single-port``) on a
free port, with the caller's environment: used by the browser tests and the benchmark."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from omnipostr.settings import PROJECT_ROOT


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
    started_at: float = 0.0

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def mailbox_url(self) -> str:
        """The development mailbox's address with its key, as the app printed it in its
        terminal at start-up (what the person running it reads)."""
        m = re.search(r"development mailbox: (http\S+)", self.log())
        assert m, "the app printed no development mailbox address"
        return m.group(1)

    def open_mail(self, page, *texts: str, timeout: float = 20.0):
        """Open the development mailbox as its operator and wait for the mail that contains
        every one of ``texts`` (mail takes a moment: the page is checked again, as a person
        would); returns its article."""
        page.goto(self.mailbox_url())
        deadline = time.monotonic() + timeout
        while True:
            mail = page.get_by_role("article")
            for t in texts:
                mail = mail.filter(has_text=t)
            if mail.count() or time.monotonic() > deadline:
                return mail.first
            page.wait_for_timeout(500)
            page.get_by_role("link", name="check again").click()


def start_app(extra_env: dict[str, str], tmp: Path, port: int | None = None) -> LiveApp:
    port = port or free_port()
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
        # a front-end build directory of its own, so tests never disturb `make run`'s .web
        "REFLEX_WEB_WORKDIR": os.environ.get("OMNIPOSTR_TEST_WEB_DIR", ".web-test"),
        "REFLEX_STATES_WORKDIR": str(tmp / "states"),
        **extra_env,
    }
    started_at = time.time()
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
        stop_app(proc)
        raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-4000:]}")
    return LiveApp(url=url, log_path=log_path, proc=proc, env=env, started_at=started_at)


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


