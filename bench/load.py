"""Many users at once: one person clicks in the composer (Chromium) while others generate from
a 1,500-word article (offline engine, all ten platforms), back to back, over the event
WebSocket as the browser speaks it.

    .venv/bin/python bench/load.py                       # both shapes, 0/5/10/20 users, 60 s a row
    .venv/bin/python bench/load.py --shape default --users 0,10 --seconds 20
    .venv/bin/python bench/load.py --scale 1,2,3 --users 10  # production shape, per worker count

Shapes:
- ``default``: what ``make run`` starts (one process, SQLite, its embedded worker with one CPU
  process per core);
- ``production``: two web processes behind one address (a loopback balancer), Redis and
  PostgreSQL, and generation workers in processes of their own (one per core).

Figures per row (the output format is stable, so runs can be compared):
- the other person's click → screen: a click on a platform chip until its pressed state
  changes on screen, measured in the page (p50 / p95 / max), one click every 150 ms;
- longest silence on their page: the longest time the page waited for an answer, i.e. the
  longest gap between a click and the next WebSocket message it received;
- generations finished in the row's time, per minute; failures (a generation that did not
  end "done", a simulated user that lost its connection);
then memory per connected user: the growth of the resident memory of the processes that
serve pages with 100 more users connected to the composer, divided by 100.

``--scale`` measures the production shape's throughput per number of generation workers: a
row of ``--users`` users for each count, with how busy the machine's cores were during the
row and how much of them the workers used (100 % is one core).
Targets (from the issue): with 10 users generating, click p95 <= 100 ms and no silence over
250 ms; generations per minute grow with worker processes until the cores are used; 0
failures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARTICLES = ROOT / "tests" / "fixtures" / "articles"
STATE = "reflex___state____state"
COMPOSER = (
    f"{STATE}.omnipostr___accounts___state____app_state.omnipostr___accounts___state____session_state"
    ".omnipostr___repurpose___state____cards_state.omnipostr___repurpose___state____composer_state"
)
FINAL = {"done", "partial", "failed", "interrupted"}
NAMESPACE = "/_event"  # the page's script connects to <origin>/_event: path and namespace
CLICK_EVERY = 0.15


def article(words: int = 1500) -> str:
    """About ``words`` words of the test articles, one after another."""
    out, n = [], 0
    for path in sorted(ARTICLES.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for para in text.split("\n\n"):
            out.append(para)
            n += len(para.split())
            if n >= words:
                return "\n\n".join(out)
    return "\n\n".join(out)


# --- the app, in either shape ------------------------------------------------------------------


@dataclass
class Running:
    url: str
    procs: list[subprocess.Popen]
    env: dict[str, str]
    cleanup: list = field(default_factory=list)

    def worker_cpu_seconds(self) -> float:
        """CPU time used so far by the generation workers and their processes."""
        import psutil

        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(p.pid)
                if "omnipostr.repurpose.worker" not in " ".join(root.cmdline()):
                    continue
                for q in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        t = q.cpu_times()
                        total += t.user + t.system
        return total

    def web_rss(self) -> int:
        """Resident memory of the processes that serve pages (not the generation workers
        and CPU processes, whose memory moves with the work they do)."""
        import psutil

        total = 0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(p.pid)
                for q in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        cmd = " ".join(q.cmdline())
                        if "omnipostr.repurpose.worker" in cmd or "multiprocessing" in cmd:
                            continue
                        total += q.memory_info().rss
        return total


def start(shape: str, tmp: Path, workers: int = 0) -> Running:
    from tests.e2e.liveapp import free_port, start_app

    env = {
        "OMNIPOSTR_DATA_DIR": str(tmp / "data"),
        "OMNIPOSTR_KEYS_DIR": str(tmp / "keys"),
        "OMNIPOSTR_ENV": "test",
        "OMNIPOSTR_JOBS_ENABLED": "false",
    }
    (tmp / "data").mkdir(parents=True, exist_ok=True)
    if shape == "default":
        env["OMNIPOSTR_DATABASE_URL"] = f"sqlite:///{tmp / 'data' / 'omnipostr.db'}"
        os.environ.update(env)
        subprocess.run([sys.executable, "-m", "omnipostr.migrate"], cwd=ROOT, check=True, env={**os.environ})
        app = start_app(env, tmp)
        return Running(app.url, [app.proc], app.env)

    from sqlalchemy import create_engine, text

    from fakes.balancer import Balancer

    name = f"omnipostr_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/13").flushdb()
    ports = [free_port(), free_port()]
    balancer = Balancer(ports, round_robin=True)
    env.update({
        "OMNIPOSTR_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "REFLEX_REDIS_URL": "redis://127.0.0.1:6379/13",
        "OMNIPOSTR_BASE_URL": balancer.url,
        "OMNIPOSTR_GENERATION_WORKER": "off",
        "GRANIAN_WORKERS": "1",  # one server process per web process (README: the production shape)
    })
    os.environ.update(env)
    subprocess.run([sys.executable, "-m", "omnipostr.migrate"], cwd=ROOT, check=True, env={**os.environ})
    webs = [start_app(env, tmp, port=p) for p in ports]
    workers = []
    for i in range(workers or os.cpu_count() or 1):
        log = open(tmp / f"worker-{i}.log", "wb")  # noqa: SIM115 - closed with the process
        workers.append(subprocess.Popen(
            # on the web processes' machine, at lower priority, as the embedded worker runs
            [sys.executable, "-m", "omnipostr.repurpose.worker", "--nice", "10"], cwd=ROOT, env={**os.environ, **env},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))

    def drop():
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return Running(balancer.url, [w.proc for w in webs] + workers, env, cleanup=[drop])


def stop(run: Running) -> None:
    for p in run.procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
    for p in run.procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    for fn in run.cleanup:
        with contextlib.suppress(Exception):
            fn()


def users(n: int) -> list[str]:
    """``n`` verified members, each in a workspace of its own on the largest plan: their
    session tokens."""
    from sqlmodel import select

    from omnipostr import clock, db
    from omnipostr.accounts import service as accounts
    from omnipostr.accounts.models import User, Workspace
    from omnipostr.crypto import email_index

    db.reset_engine()
    tokens = []
    for i in range(n):
        email = f"load-{i}-{uuid.uuid4().hex[:6]}@example.com"
        db.in_session(accounts.sign_up, accounts.SignUpForm(f"User {i}", email, "correct horse battery staple 9", f"Team {i}", True, True))
        with db.session() as s:
            user = s.exec(select(User).where(User.email_index == email_index(email))).one()
            user.email_verified_at = clock.now()
            for ws in s.exec(select(Workspace)).all():
                ws.plan = "business"
                s.add(ws)
            token, _ = accounts.start_session(s, user, accounts.ClientInfo())
        tokens.append(token)
    return tokens


# --- a simulated user: the event WebSocket, as the page's script speaks it ----------------------


def _router(path: str = "/app") -> dict:
    return {"pathname": path, "asPath": path, "query": {}}


def _find(delta, prefix: str):
    if isinstance(delta, dict):
        for k, v in delta.items():
            if k.startswith(prefix):
                return v
            found = _find(v, prefix)
            if found is not None:
                return found
    return None


class SimUser:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.status: str | None = None
        self.changed = asyncio.Event()
        self.sio = None
        self.runs = 0

    async def connect(self) -> None:
        import socketio

        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        boot = {"name": f"{STATE}.hydrate_and_load", "payload": {}, "router_data": _router()}
        ws_url = self.url.replace("http://", "ws://")
        await self.sio.connect(
            f"{ws_url}?token={uuid.uuid4()}", socketio_path="/_event", namespaces=[NAMESPACE], transports=["websocket"],
            headers={"Cookie": f"omnipostr_session={self.token}", "Origin": self.url},
            auth={"event": boot}, wait_timeout=30,
        )
        await self.emit(f"{COMPOSER}.select_all", {})  # all ten platforms

    async def _on_event(self, update: dict) -> None:
        status = _find(update.get("delta") or {}, "gen_status")
        if status is not None:
            self.status = status
            self.changed.set()
        for ev in update.get("events") or []:  # what the page's script would send back
            if ev.get("name", "").endswith("_call_script") or ev.get("name", "").startswith("_"):
                continue
            await self.emit(ev["name"], ev.get("payload") or {})

    async def emit(self, name: str, payload: dict) -> None:
        await self.sio.emit("event", {"name": name, "payload": payload, "router_data": _router()}, namespace=NAMESPACE)

    async def generate(self, text: str, timeout: float = 180) -> bool:
        """One generation, as a click on Generate starts it; True when it ends "done". Every
        one has a title of its own, so no cache of an earlier source serves it."""
        self.status = None
        self.runs += 1
        title = f"# Field notes {self.runs} from {uuid.uuid4().hex[:8]}\n\n"
        await self.emit(f"{COMPOSER}.generate", {"text": title + text})
        deadline = time.monotonic() + timeout
        seen_running = False
        while time.monotonic() < deadline:
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), deadline - time.monotonic())
            if self.status in ("queued", "running"):
                seen_running = True
            elif seen_running and self.status in FINAL:
                return self.status == "done"
        return False

    async def close(self) -> None:
        if self.sio is not None:
            with contextlib.suppress(Exception):
                await self.sio.disconnect()


# --- the person in Chromium ------------------------------------------------------------------

CLICK_JS = """
async () => {
  const chip = document.querySelector('[role=group][aria-label=Platforms] button[aria-pressed]');
  const was = chip.getAttribute('aria-pressed');
  const sent = performance.now();
  const changed = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      if (chip.getAttribute('aria-pressed') !== was) { obs.disconnect(); resolve(performance.now()); }
    });
    obs.observe(chip, {attributes: true});
  });
  chip.click();
  const shown = await changed;
  const silence = (window.__frames.find((t) => t > sent) ?? shown) - sent;
  window.__frames = [];
  return [shown - sent, silence];
}
"""


async def person(url: str, token: str, stop_at: float, lat: list[float], silences: list[float]) -> None:
    from playwright.async_api import async_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = await browser.new_context(base_url=url)
        await ctx.add_cookies([{"name": "omnipostr_session", "value": token, "url": url}])
        page = await ctx.new_page()
        await page.add_init_script("""
          window.__frames = [];
          const Orig = window.WebSocket;
          window.WebSocket = function (...a) {
            const ws = new Orig(...a);
            ws.addEventListener('message', () => window.__frames.push(performance.now()));
            return ws;
          };
          window.WebSocket.prototype = Orig.prototype;
          Object.assign(window.WebSocket, Orig);
        """)
        await page.goto("/app")
        await page.get_by_role("group", name="Platforms").get_by_role("button", name="Mastodon", exact=True).wait_for()
        await page.wait_for_timeout(1000)
        while time.monotonic() < stop_at:
            took, silence = await page.evaluate(CLICK_JS)
            lat.append(took)
            silences.append(silence)
            await asyncio.sleep(CLICK_EVERY)
        await browser.close()


# --- a row of the table ------------------------------------------------------------------------


@dataclass
class Row:
    users: int
    lat: list[float]
    silences: list[float]
    done: int
    failures: int
    seconds: float


async def row(url: str, tokens: list[str], n: int, seconds: float, text: str) -> Row:
    sims = [SimUser(url, t) for t in tokens[1 : n + 1]]
    failures = 0
    for s in sims:
        await s.connect()
    done = 0
    lat: list[float] = []
    silences: list[float] = []
    t0 = time.monotonic()
    stop_at = t0 + seconds

    async def loop(sim: SimUser) -> None:
        nonlocal done, failures
        while time.monotonic() < stop_at:
            if await sim.generate(text):
                done += 1
            else:
                failures += 1

    await asyncio.gather(person(url, tokens[0], stop_at, lat, silences), *(loop(s) for s in sims))
    elapsed = time.monotonic() - t0
    for s in sims:
        await s.close()
    return Row(n, lat, silences, done, failures, elapsed)


def fmt_ms(v: float) -> str:
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def print_row(r: Row) -> None:
    p50 = statistics.median(r.lat)
    per_min = "–" if not r.users else f"{r.done * 60 / r.seconds:.0f}"
    print(f"{r.users:>5} | {fmt_ms(p50):>8} | {fmt_ms(p95(r.lat)):>8} | {fmt_ms(max(r.lat)):>8} | {fmt_ms(max(r.silences)):>9} "
          f"| {per_min:>9} | {r.failures:>8}", flush=True)


async def measure(shape: str, counts: list[int], seconds: float, workers: int = 0) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"omnipostr-load-{shape}-"))
    run = start(shape, tmp, workers)
    try:
        idle = 100
        tokens = users(max(counts, default=0) + 1 + idle)
        text = article()
        workers = "embedded worker, one CPU process per core" if shape == "default" else (
            f"2 web processes, {workers or os.cpu_count()} workers, Redis, PostgreSQL")
        print(f"OmniPostr load benchmark (shape: {shape}: {workers}; offline engine; "
              f"{len(text.split()):,}-word article; 10 platforms; {seconds:.0f} s per row)")
        print("users | click p50 | click p95 | click max | silence max | gens/min | failures")
        for n in counts:
            print_row(await row(run.url, tokens, n, seconds, text))
        await asyncio.sleep(3)
        before = run.web_rss()
        sims = [SimUser(run.url, t) for t in tokens[-idle:]]
        for s in sims:
            await s.connect()
        await asyncio.sleep(3)
        after = run.web_rss()
        for s in sims:
            await s.close()
        print(f"memory per connected user        {(after - before) / idle / 1e3:.0f} KB  ({idle} users on the composer)")
        print(json.dumps({"shape": shape}), file=sys.stderr)
    finally:
        stop(run)


async def scale_row(workers: int, users_n: int, seconds: float) -> None:
    """One row of ``--scale``: the production shape with ``workers`` generation workers."""
    import psutil

    tmp = Path(tempfile.mkdtemp(prefix="omnipostr-load-scale-"))
    run = start("production", tmp, workers)
    try:
        tokens = users(users_n + 1)
        before = run.worker_cpu_seconds()
        psutil.cpu_percent()
        r = await row(run.url, tokens, users_n, seconds, article())
        busy = psutil.cpu_percent() * (os.cpu_count() or 1)
        used = (run.worker_cpu_seconds() - before) / r.seconds * 100
        print(f"{workers:>7} | {r.done * 60 / r.seconds:>8.0f} | {busy:>9.0f}% | {used:>11.0f}% | {fmt_ms(p95(r.lat)):>9} "
              f"| {r.failures:>8}", flush=True)
    finally:
        stop(run)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=["default", "production", "both"], default="both")
    parser.add_argument("--users", default="0,5,10,20")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=0, help="production shape: workers (default one per core)")
    parser.add_argument("--scale", default="", help="production shape: a row per worker count, e.g. 1,2,3")
    parser.add_argument("--scale-row", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    users_n = max(int(x) for x in args.users.split(","))
    if args.scale_row:
        asyncio.run(scale_row(args.scale_row, users_n, args.seconds))
        return
    if args.scale:  # each count in a process of its own (its own database and keys)
        print(f"OmniPostr load benchmark, workers (shape: production: 2 web processes, Redis, PostgreSQL; "
              f"offline engine; {users_n} users generating; {args.seconds:.0f} s per row; {os.cpu_count()} cores)")
        print("workers | gens/min | cores busy | workers' CPU | click p95 | failures", flush=True)
        for n in (int(x) for x in args.scale.split(",") if x.strip()):
            subprocess.run([sys.executable, __file__, "--scale-row", str(n), "--users", str(users_n),
                            "--seconds", str(args.seconds)], check=True)
        return
    if args.shape == "both":  # each shape in a process of its own (its own settings)
        for shape in ("default", "production"):
            subprocess.run([sys.executable, __file__, "--shape", shape, "--users", args.users,
                            "--seconds", str(args.seconds)], check=True)
        return
    asyncio.run(measure(args.shape, [int(x) for x in args.users.split(",") if x.strip()], args.seconds, args.workers))


if __name__ == "__main__":
    main()
