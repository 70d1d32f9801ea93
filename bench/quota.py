"""Generation quotas under load: 200 generation starts at once against a workspace with 50
generations left of its plan, on SQLite and on PostgreSQL, through ``start_generation`` (each
start in a thread with its own session, as each request of the app has), beside the same 200
starts on a workspace whose limit is far away.

    .venv/bin/python bench/quota.py                  # SQLite, and PostgreSQL when it answers
    .venv/bin/python bench/quota.py --db sqlite

PostgreSQL is the server at ``OMNIPOSTR_CI_POSTGRES_URL`` (default: 127.0.0.1:5432, user
postgres); the benchmark makes a database of its own there and drops it at the end.

Figures per database (``key: value`` lines; the format is stable, so runs can be compared):
- started / refused / other_errors: how the 200 metered starts ended (started must be exactly
  50, and the period's count must say the limit);
- metered_ok_ms / metered_refused_ms: time of one start, from the moment all 200 are let go
  until its transaction committed (or was refused), median and 95th percentile;
- unmetered_ms: the same for 200 starts at once on a workspace with thousands left;
- sequential_metered_ms / sequential_unmetered_ms: one start at a time, 50 of each, for the
  cost of a start without waiting on the others.
The text is described once up front, as the app does in a CPU process before the start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("OMNIPOSTR_CI_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STARTS = 200
LEFT = 50
SEQUENTIAL = 50
PLATFORMS = ["x", "linkedin", "bluesky"]


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- one database, in its own process (the app reads its settings once) --------------------


def one(kind: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="omnipostr-quota-"))
    os.environ.update({
        "OMNIPOSTR_DATA_DIR": str(tmp), "OMNIPOSTR_KEYS_DIR": str(tmp / "keys"), "OMNIPOSTR_ENV": "test",
        "OMNIPOSTR_JOBS_ENABLED": "false",
    })
    dbname = ""
    admin = None
    if kind == "sqlite":
        os.environ["OMNIPOSTR_DATABASE_URL"] = f"sqlite:///{tmp / 'quota.db'}"
    else:
        from sqlalchemy import create_engine, text

        dbname = f"omnipostr_quota_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{dbname}"'))
        os.environ["OMNIPOSTR_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    sys.path.insert(0, str(ROOT))
    try:
        Bench(kind).run()
    finally:
        if dbname and admin is not None:
            from sqlalchemy import text

            from omnipostr import db

            db.reset_engine()
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


class Bench:
    def __init__(self, kind: str):
        self.kind = kind

    def run(self) -> None:
        from omnipostr import db, migrate
        from omnipostr.repurpose import cpu
        from omnipostr.repurpose import service as compose
        from omnipostr.settings import get_settings
        from tests.repurpose.helpers import ARTICLE

        self.db, self.compose = db, compose
        migrate.upgrade()
        self.request = compose.ComposeRequest(text=ARTICLE, platforms=PLATFORMS)
        self.described = cpu.describe_request(ARTICLE, get_settings().source_max_chars)

        metered = self.workspace("metered", "pro", left=LEFT)
        unmetered = self.workspace("unmetered", "business", left=None)
        ok, refused, errors, wall = self.burst(metered)
        used, limit = self.count(metered)
        far_ok, _, far_errors, far_wall = self.burst(unmetered)
        seq_metered = self.sequential(self.workspace("sequential", "pro", left=SEQUENTIAL))
        seq_unmetered = self.sequential(unmetered)

        k = self.kind
        out = [
            (f"{k}.started", len(ok)),
            (f"{k}.refused", len(refused)),
            (f"{k}.other_errors", len(errors) + len(far_errors)),
            (f"{k}.counted", f"{used} of {limit}"),
            (f"{k}.metered_wall_s", f"{wall:.2f}"),
            (f"{k}.metered_ok_ms_p50", f"{statistics.median(ok):.1f}" if ok else "-"),
            (f"{k}.metered_ok_ms_p95", f"{pct(ok, 0.95):.1f}"),
            (f"{k}.metered_refused_ms_p50", f"{statistics.median(refused):.1f}" if refused else "-"),
            (f"{k}.metered_refused_ms_p95", f"{pct(refused, 0.95):.1f}"),
            (f"{k}.unmetered_started", len(far_ok)),
            (f"{k}.unmetered_wall_s", f"{far_wall:.2f}"),
            (f"{k}.unmetered_ms_p50", f"{statistics.median(far_ok):.1f}" if far_ok else "-"),
            (f"{k}.unmetered_ms_p95", f"{pct(far_ok, 0.95):.1f}"),
            (f"{k}.sequential_metered_ms_p50", f"{statistics.median(seq_metered):.1f}"),
            (f"{k}.sequential_metered_ms_p95", f"{pct(seq_metered, 0.95):.1f}"),
            (f"{k}.sequential_unmetered_ms_p50", f"{statistics.median(seq_unmetered):.1f}"),
            (f"{k}.sequential_unmetered_ms_p95", f"{pct(seq_unmetered, 0.95):.1f}"),
        ]
        for key, value in out:
            print(f"{key}: {value}", flush=True)
        for e in errors[:3] + far_errors[:3]:
            print(f"# {self.kind} error: {e}", flush=True)
        if len(ok) != LEFT or used != limit or errors or far_errors or len(far_ok) != STARTS:
            raise SystemExit(f"{self.kind}: the quota let {len(ok)} of {LEFT} starts through (counted {used} of {limit})")

    def workspace(self, name: str, plan: str, left: int | None):
        """A member of a new workspace on ``plan``, with ``left`` generations left of its
        period (None: none used)."""
        from sqlmodel import select

        from omnipostr import clock
        from omnipostr.accounts import service as accounts
        from omnipostr.accounts.models import User, Workspace
        from omnipostr.billing import quota
        from omnipostr.billing.models import UsagePeriod
        from omnipostr.billing.plans import plan_for

        email = f"{name}@example.com"
        form = accounts.SignUpForm(name.title(), email, "bench mark pass phrase 42", name.title(), True, True)
        self.db.in_session(accounts.sign_up, form)
        with self.db.session() as s:
            user = next(u for u in s.exec(select(User)).all() if u.email == email)
            user.email_verified_at = clock.now()
            token, _ = accounts.start_session(s, user, accounts.ClientInfo())
            who = accounts.resolve_session(s, token).actor
            ws = s.get(Workspace, who.workspace_id)
            ws.plan = plan
            s.add(ws)
            if left is not None:
                start, end = quota.current_period(s, ws.id)
                s.add(UsagePeriod(workspace_id=ws.id, period_start=start, period_end=end,
                                  generations=plan_for(plan).generations_per_month - left))
        return who

    def start(self, who) -> None:
        with self.db.session() as s:
            self.compose.start_generation(s, who, self.request, engine="offline", model="", described=self.described)

    def burst(self, who) -> tuple[list[float], list[float], list[str], float]:
        """``STARTS`` starts let go at once: (ms of those that started, ms of those refused
        for the quota, other errors, wall time in seconds)."""
        gate = threading.Barrier(STARTS + 1)
        lock = threading.Lock()
        ok: list[float] = []
        refused: list[float] = []
        errors: list[str] = []
        t0 = [0.0]

        def one() -> None:
            gate.wait()
            try:
                self.start(who)
            except self.compose.ComposeError as e:
                took = (time.perf_counter() - t0[0]) * 1000
                with lock:
                    (refused if e.field == "quota" else errors).append(took if e.field == "quota" else e.message)
                return
            except Exception as e:  # noqa: BLE001 - counted and shown, the run fails
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:300])
                return
            took = (time.perf_counter() - t0[0]) * 1000
            with lock:
                ok.append(took)

        threads = [threading.Thread(target=one) for _ in range(STARTS)]
        for t in threads:
            t.start()
        t0[0] = time.perf_counter()
        gate.wait()
        for t in threads:
            t.join()
        return ok, refused, errors, time.perf_counter() - t0[0]

    def sequential(self, who) -> list[float]:
        times = []
        for _ in range(SEQUENTIAL):
            t0 = time.perf_counter()
            self.start(who)
            times.append((time.perf_counter() - t0) * 1000)
        return times

    def count(self, who) -> tuple[int, int]:
        from omnipostr.billing import quota

        u = self.db.in_session(quota.usage, who.workspace_id)
        return u.used, u.limit


# --- both databases -----------------------------------------------------------------------


def postgres_answers() -> bool:
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means: not reachable here
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one)
        return
    print(f"OmniPostr quota benchmark ({STARTS} concurrent starts, {LEFT} left of the plan; "
          f"{len(PLATFORMS)} platforms; threads with a session each)")
    failed = False
    for kind in args.db.split(","):
        if kind == "postgres" and not postgres_answers():
            print("postgres: not reachable (skipped)")
            continue
        proc = subprocess.run([sys.executable, __file__, "--one", kind], cwd=ROOT, capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            failed = True
    if failed:
        raise SystemExit("the quota benchmark failed")


if __name__ == "__main__":
    main()
