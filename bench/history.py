"""How the library stays fast as a workspace's history grows: one workspace seeded with
1,000, 100,000 and 1,000,000 generations, on SQLite and on PostgreSQL, and the library
service timed at each size.

    .venv/bin/python bench/history.py                        # both databases, all three sizes
    .venv/bin/python bench/history.py --db sqlite --sizes 1000,100000

Seeding goes through the services, as the app writes: a handful of real generations are
first made by the runner with the offline engine from real documents (the test corpus);
every seeded generation then stores its source, its posts (with their first revision) and
its search index through ``start_generation``, ``save_body`` and ``reindex``, so every row
is encrypted and indexed as the app does it. The services write about 100 generations a
second here, so past ``--distinct`` generations (10,000 by default) the rows of those are
copied in SQL, row for row with new ids (the ciphertexts and index rows exactly as the app
wrote them), until the size is reached. The clock moves 10 minutes per generation written (a
month's plan limit is never reached), and each copy is dated after the rows before it, as a
history grows (the newest page holds the newest rows).

Figures (the output format is stable, so runs can be compared), each the median of 15 calls
of the library service in its own session, in milliseconds:
- list: the first page; next: the page after it (its cursor);
- common: a search for the word most generations have; some: a word in about one in five;
  rare: a word in three generations (written just before); two: the common and the rare word;
- platform: the list filtered to a platform in about one generation in three;
- bytes/gen: database size divided by generations; index/gen: the search index's share.
The last lines give each figure at the largest size over its figure at 1,000 (target ≤ 1.5).
"""

# ruff: noqa: S608 - the SQL is built from the models' table and column names and integers
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("OMNIPOSTR_CI_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STEP = timedelta(minutes=10)
RUNS = 15
CONTROL = 1_000  # generations of the workspace each size is measured beside
FIGURES = ("list", "next", "common", "some", "rare", "two", "platform")
SYLLABLES = ["ka", "lo", "mi", "ne", "zu", "ri", "ta", "vo", "pe", "xu"]


def rare_word(i: int) -> str:
    """A made-up word for a title, one of 5,000 (titles differ as people's do)."""
    n = i % 5000
    return "q" + "".join(SYLLABLES[(n // 10**k) % 10] for k in range(4))


# --- one database, in its own process (the app reads its settings once) --------------------


def one(kind: str, sizes: list[int], distinct: int, again: int = 0, pause: float = 0.0, keep: bool = False) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="omnipostr-history-"))
    os.environ.update({
        "OMNIPOSTR_DATA_DIR": str(tmp), "OMNIPOSTR_KEYS_DIR": str(tmp / "keys"), "OMNIPOSTR_ENV": "test",
        "OMNIPOSTR_JOBS_ENABLED": "false",
    })
    dbname = ""
    if kind == "sqlite":
        os.environ["OMNIPOSTR_DATABASE_URL"] = f"sqlite:///{tmp / 'history.db'}"
    else:
        from sqlalchemy import create_engine, text

        dbname = f"omnipostr_history_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{dbname}"'))
        os.environ["OMNIPOSTR_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    sys.path.insert(0, str(ROOT))
    try:
        Bench(kind, distinct).run(sizes, again, pause)
    finally:
        if keep:
            print(f"# kept: {os.environ['OMNIPOSTR_DATABASE_URL']} (keys in {tmp / 'keys'})", flush=True)
        elif dbname:
            from omnipostr import db

            db.engine().dispose()
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        if not keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


class Bench:
    def __init__(self, kind: str, distinct: int):
        self.kind = kind
        self.distinct = distinct

    def run(self, sizes: list[int], again: int = 0, pause: float = 0.0) -> None:
        import asyncio

        from sqlmodel import select

        from omnipostr import clock, db, migrate
        from omnipostr.accounts import service as accounts
        from omnipostr.accounts.models import User, Workspace
        from omnipostr.library import service as library
        from omnipostr.repurpose import runner
        from omnipostr.repurpose import service as compose
        from omnipostr.repurpose.models import Variant
        from tests.corpus import documents

        self.db, self.library, self.compose, self.clock = db, library, compose, clock
        migrate.upgrade()
        form = accounts.SignUpForm("Bench", "history@example.com", "bench mark pass phrase 42", "Bench", True, True)
        db.in_session(accounts.sign_up, form)
        with db.session() as s:
            user = s.exec(select(User)).first()
            user.email_verified_at = clock.now()
            ws = s.exec(select(Workspace)).first()
            ws.plan = "business"
            token, _ = accounts.start_session(s, user, accounts.ClientInfo())
            self.who = accounts.resolve_session(s, token).actor
        # real posts: the runner and the offline engine over real documents, a few platforms each
        clock.advance(-STEP * (max(sizes) + 1000 + CONTROL))
        plats = ["x", "linkedin", "threads", "bluesky", "instagram", "mastodon", "newsletter", "tiktok"]
        self.templates = []
        docs = [d for d in documents() if d.language == "en" and len(d.text) > 2000][:12]
        for i, doc in enumerate(docs):
            chosen = [plats[(i + k) % len(plats)] for k in range(3)]
            req = compose.ComposeRequest(text=doc.text[:6000], platforms=chosen)
            gen = db.in_session(compose.start_generation, self.who, req, engine="offline", model="")
            asyncio.run(runner.run(gen.id))
            with db.session() as s:
                rows = s.exec(select(Variant).where(Variant.generation_id == gen.id)).all()
                self.templates.append((req, {v.platform: (compose.post_of(v), v.problems, v.flags) for v in rows if v.body}))
            clock.advance(STEP)
        self.seeded = len(self.templates)
        self.common, self.some = self._words()
        print(f"# {self.kind}: {len(self.templates)} real generations as templates; "
              f"common word in {self._share(self.common)}, some word in {self._share(self.some)}", flush=True)
        results = {}
        self.block = None
        self.control = None
        for n in sizes:
            t0 = time.perf_counter()
            added = n - self.seeded
            self.seed(min(n, self.distinct))
            if self.seeded < n:
                if self.control is None:
                    self.add_control()
                self.grow(n)
            rate = added / (time.perf_counter() - t0) if added > 0 else 0
            results[n] = self.measure()
            results[n]["seed/s"] = rate
            print(f"# {self.kind} at {n:,}: " + ", ".join(f"{t} {b:,.0f}" for t, b in self.breakdown()), flush=True)
            print(json.dumps({"db": self.kind, "n": n, **results[n]}), flush=True)
        for k in range(again):  # the largest size measured again, after a pause (how much is noise)
            time.sleep(pause)
            print(json.dumps({"db": self.kind, "n": sizes[-1], "again": k + 1, **self.measure(), "seed/s": 0}), flush=True)

    def _words(self) -> tuple[str, str]:
        """The word most templates have, and one about one template in five has."""
        from omnipostr.library.service import _words

        sets = [_words(" ".join(p.text for p, _, _ in posts.values())) for _, posts in self.templates]
        counts: dict[str, int] = {}
        for st in sets:
            for w in st:
                counts[w] = counts.get(w, 0) + 1
        words = sorted(w for w in counts if w.isalpha() and len(w) > 3)
        common = max(words, key=lambda w: counts[w])
        target = max(1, round(len(sets) / 5))
        some = min((w for w in words if len(w) > 5), key=lambda w: (abs(counts[w] - target), w))
        return common, some

    def _share(self, word: str) -> str:
        from omnipostr.library.service import _words

        n = sum(word in _words(" ".join(p.text for p, _, _ in posts.values())) for _, posts in self.templates)
        return f"{n} of {len(self.templates)} templates"

    def seed(self, n: int, batch: int = 250) -> None:
        while self.seeded < n:
            with self.db.session() as s:
                for _ in range(min(batch, n - self.seeded)):
                    self._write(s, self.who, self.seeded)
                    self.seeded += 1

    def _write(self, s, who, i: int) -> None:
        """The ``i``-th generation of a workspace, through the services, from a template."""
        compose = self.compose
        req, posts = self.templates[i % len(self.templates)]
        title = f"{req.text.splitlines()[0][:60].strip('# ')} {rare_word(i)}"
        gen = compose.start_generation(
            s, who, compose.ComposeRequest(text=req.text, title=title, platforms=req.platforms),
            engine="offline", model="", described=(title, 900),
        )
        self._store(s, gen, posts)

    def _store(self, s, gen, posts: dict) -> None:
        """A generation's posts as the runner stores them: body, first revision, index."""
        from sqlmodel import select

        from omnipostr.repurpose.models import Variant

        for v in s.exec(select(Variant).where(Variant.generation_id == gen.id)).all():
            post, problems, flags = posts[v.platform]
            self.library.save_body(s, v, post, kind="generated", author_id=None)
            v.status, v.problems, v.flags = "done", problems, flags
        gen.status, gen.started_at, gen.finished_at = "done", self.clock.now(), self.clock.now()
        s.add(gen)
        s.flush()
        self.library.reindex(s, gen.id)
        self.clock.advance(STEP)

    def add_control(self) -> None:
        """A second workspace of ``CONTROL`` generations, written through the services once the
        first has its ``--distinct`` ones (so no copy ever includes it). Each size is measured
        beside it, call for call, on the same server at the same moment: what the larger
        history costs, apart from how busy or how warm the machine happens to be."""
        from sqlmodel import select

        from omnipostr.accounts import service as accounts
        from omnipostr.accounts.models import User, Workspace

        self._capture_block()
        form = accounts.SignUpForm("Control", "control@example.com", "bench mark pass phrase 42", "Control", True, True)
        self.db.in_session(accounts.sign_up, form)
        with self.db.session() as s:
            user = s.exec(select(User).where(User.id != self.who.user_id)).one()
            user.email_verified_at = self.clock.now()
            s.get(Workspace, s.exec(select(Workspace.id).where(Workspace.owner_id == user.id)).one()).plan = "business"
            token, _ = accounts.start_session(s, user, accounts.ClientInfo())
            self.control = accounts.resolve_session(s, token).actor
        for batch in range(0, CONTROL, 250):
            with self.db.session() as s:
                for i in range(batch, min(CONTROL, batch + 250)):
                    self._write(s, self.control, i)

    def _capture_block(self) -> None:
        """The rows of the generations written through the services (the copies' source)."""
        from sqlalchemy import text

        if self.block is None:
            with self.db.engine().connect() as c:
                spans = {t: tuple(c.execute(text(f"SELECT min(id), max(id) FROM {t}")).one())
                         for t in self.COPIED if t != "search_terms"}
            # a table the services left empty (usage events, before anyone consents) has nothing to copy
            self.block = {t: span for t, span in spans.items() if span[0] is not None}

    COPIED = ("sources", "generations", "variants", "variant_revisions", "search_terms", "usage_events")

    def grow(self, n: int) -> None:
        """Past ``--distinct`` generations, copies of the ones written through the services,
        row for row (the ciphertexts and index rows as the app wrote them, new ids)."""
        from sqlalchemy import text

        from omnipostr.repurpose.models import SQLModel

        self._capture_block()
        tables = {t: SQLModel.metadata.tables[t] for t in self.COPIED if t in self.block or t == "search_terms"}
        first = self._written_at(self.block["generations"][0])
        while self.seeded < n:
            with self.db.engine().begin() as c:  # a transaction per copy (SQLite's log stays small)
                count = min(self.distinct, n - self.seeded)
                top = {t: c.execute(text(f"SELECT max(id) FROM {t}")).scalar_one() for t in self.block}
                off = {t: top[t] - self.block[t][0] + 1 for t in self.block}
                g_lo = self.block["generations"][0]
                g_hi = g_lo + count - 1
                # dated after everything before them, as a history grows: the newest page is
                # the newest rows, not the first ones' copies spread over the whole database
                later = int((self.clock.now() - first).total_seconds())
                for name, table in tables.items():
                    cols = [col.name for col in table.columns]
                    exprs = []
                    for col in cols:
                        if (name, col) in self.DATED:
                            exprs.append(self._later(col, later))
                        elif col == "id":
                            exprs.append(f"id + {off[name]}")
                        elif col == "source_id" and name == "generations":
                            exprs.append(f"source_id + {off['sources']}")
                        elif col == "generation_id" and name in ("variants", "search_terms"):
                            exprs.append(f"generation_id + {off['generations']}")
                        elif col == "variant_id":
                            exprs.append(f"variant_id + {off['variants']}")
                        else:
                            exprs.append(col)
                    if name == "search_terms" or name == "variants":
                        where = f"generation_id BETWEEN {g_lo} AND {g_hi}"
                    elif name == "variant_revisions":
                        where = f"variant_id IN (SELECT id FROM variants WHERE generation_id BETWEEN {g_lo} AND {g_hi})"
                    elif name == "sources":
                        where = f"id IN (SELECT source_id FROM generations WHERE id BETWEEN {g_lo} AND {g_hi})"
                    elif name == "generations":
                        where = f"id BETWEEN {g_lo} AND {g_hi}"
                    else:
                        where = f"id BETWEEN {self.block[name][0]} AND {self.block[name][1]}"
                    c.execute(text(f"INSERT INTO {name} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {name} WHERE {where}"))
                self.seeded += count
            self.clock.advance(STEP * count)
        if self.kind == "postgres":
            with self.db.engine().begin() as c:
                for t in self.block:
                    c.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"))

    DATED = {("sources", "created_at"), ("generations", "created_at"), ("variants", "created_at"),
             ("search_terms", "created_us")}
    """The columns of the library's order (and the sources' age), moved on in each copy."""

    def _written_at(self, generation_id: int):
        from datetime import UTC

        from omnipostr.repurpose.models import Generation

        with self.db.session() as s:
            at = s.get(Generation, generation_id).created_at
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    def _later(self, col: str, seconds: int) -> str:
        """SQL for ``col`` moved ``seconds`` later (a datetime, or microseconds since 1970)."""
        if col.endswith("_us"):
            return f"{col} + {seconds * 1_000_000}"
        if self.kind == "postgres":
            return f"{col} + interval '{seconds} seconds'"
        # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff': move the seconds, keep the fraction
        return f"strftime('%Y-%m-%d %H:%M:%S', {col}, '+{seconds} seconds') || substr({col}, 20)"

    def plant(self, who, tag: str = "") -> str:
        """Three more generations through the services, with a word no other has (at every
        size, the rare search finds those three)."""
        word = "zq" + tag + "".join(SYLLABLES[int(d)] for d in str(self.seeded))
        req, posts = self.templates[0]
        with self.db.session() as s:
            for _ in range(3):
                gen = self.compose.start_generation(
                    s, who, self.compose.ComposeRequest(text=req.text, title=f"Notes {word}", platforms=req.platforms),
                    engine="offline", model="", described=(f"Notes {word}", 900),
                )
                self._store(s, gen, posts)
        if who is self.who:
            self.seeded += 3
        return word

    def settle(self) -> None:
        """PostgreSQL's autovacuum, done now so each size is measured settled (SQLite keeps
        no statistics unless asked, and the app does not ask)."""
        from sqlalchemy import text

        if self.kind == "postgres":
            with self.db.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))

    def measure(self) -> dict:
        db, library = self.db, self.library
        self.settle()

        whos = [self.who] + ([self.control] if self.control is not None else [])

        def once(who, kw) -> float:
            t0 = time.perf_counter()
            with db.session() as s:
                library.list_generations(s, who, **kw)
            return (time.perf_counter() - t0) * 1000

        def timed(kws: list[dict]) -> list[float]:
            """Median time of each workspace's call, the calls taken in turn (A, B, A, B...)."""
            times: list[list[float]] = [[] for _ in whos]
            for _ in range(RUNS + 2):
                for j, who in enumerate(whos):
                    times[j].append(once(who, kws[j]))
            return [statistics.median(t[2:]) for t in times]

        firsts = []
        for who in whos:
            with db.session() as s:
                firsts.append(library.list_generations(s, who).next_cursor)
        rares = [self.plant(who, tag="c" if who is not self.who else "") for who in whos]
        same = [{} for _ in whos]
        figures = {
            "list": timed(same),
            "next": timed([{"cursor": c} for c in firsts]),
            "common": timed([{"query": self.common} for _ in whos]),
            "some": timed([{"query": self.some} for _ in whos]),
            "rare": timed([{"query": r} for r in rares]),
            "two": timed([{"query": f"{self.common} {r}"} for r in rares]),
            "platform": timed([{"platform": "x"} for _ in whos]),
        }
        for who, rare in zip(whos, rares, strict=True):
            with db.session() as s:  # the searches find what they should
                assert len(library.list_generations(s, who, query=f"{self.common} {rare}").items) == 3, "rare word"
                assert len(library.list_generations(s, who, query=self.common).items) == 20, "common word"
        out: dict = {f: v[0] for f, v in figures.items()}
        if self.control is not None:
            out["control"] = {f: v[1] for f, v in figures.items()}
        total, index = self.footprint()
        out["bytes/gen"] = total / self.seeded
        out["index/gen"] = index / self.seeded
        return out

    def breakdown(self) -> list[tuple[str, float]]:
        """Bytes per generation of the largest tables, with their indexes."""
        from sqlalchemy import text

        with self.db.engine().connect() as c:
            if self.kind == "sqlite":
                rows = c.execute(text(
                    "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                    "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1 ORDER BY 2 DESC LIMIT 6")).all()
            else:
                rows = c.execute(text(
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' "
                    "AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 6")).all()
        return [(name, size / self.seeded) for name, size in rows]

    def footprint(self) -> tuple[int, int]:
        from sqlalchemy import text

        with self.db.engine().connect() as c:
            if self.kind == "sqlite":
                c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                total = c.execute(text("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")).scalar_one()
                index = c.execute(text(
                    "SELECT sum(pgsize) FROM dbstat WHERE name = 'search_terms' OR name IN "
                    "(SELECT name FROM sqlite_master WHERE tbl_name = 'search_terms')")).scalar_one()
            else:
                c.execute(text("CHECKPOINT"))
                total = c.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                index = c.execute(text("SELECT pg_total_relation_size('search_terms')")).scalar_one()
        return int(total), int(index or 0)


# --- the table ----------------------------------------------------------------------------


def fmt(v: float) -> str:
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--distinct", type=int, default=10_000, help="generations written through the services")
    parser.add_argument("--again", type=int, default=0, help="measure the largest size this many more times")
    parser.add_argument("--pause", type=float, default=60.0, help="seconds before each measurement again")
    parser.add_argument("--keep", action="store_true", help="keep the database (its address is printed)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    if args.one:
        one(args.one, sizes, args.distinct, args.again, args.pause, args.keep)
        return
    print("OmniPostr history benchmark (library service, one workspace; median of 15 calls, ms)")
    print("db       | generations | list | next | common | some | rare | two | platform | bytes/gen | index/gen | seeded/s")
    for kind in args.db.split(","):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--one", kind, "--sizes", args.sizes, "--distinct", str(args.distinct),
             "--again", str(args.again), "--pause", str(args.pause), *(["--keep"] if args.keep else [])],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        rows: dict[int, dict] = {}
        repeats: list[dict] = []
        for line in proc.stdout:
            if line.startswith("{"):
                r = json.loads(line)
                if r.get("again"):
                    repeats.append(r)
                else:
                    rows[r["n"]] = r
                print(f"{kind:<8} | {r['n']:>11,} | " + " | ".join(fmt(r[f]) for f in FIGURES)
                      + f" | {r['bytes/gen']:>9,.0f} | {r['index/gen']:>9,.0f} | {r['seed/s']:>8,.0f}"
                      + (f"   (again {r['again']})" if r.get("again") else ""), flush=True)
                if "control" in r:
                    c = r["control"]
                    print(f"{kind:<8} | {'beside ' + format(CONTROL // 1000) + 'k':>11} | "
                          + " | ".join(fmt(c[f]) for f in FIGURES) + " |           |           |", flush=True)
            elif line.startswith("#"):
                print(line.rstrip(), flush=True)
        if proc.wait() != 0:
            print(proc.stderr.read()[-3000:], file=sys.stderr)
            raise SystemExit(f"{kind}: the benchmark failed")
        lo, hi = min(rows), max(rows)
        if lo != hi:
            ratios = "  ".join(f"{f} {rows[hi][f] / rows[lo][f]:.2f}x" for f in FIGURES)
            print(f"{kind:<8} | {hi:,} over {lo:,}: {ratios}", flush=True)
        if repeats:  # each figure's median over every measurement of the largest size
            runs = [rows[hi], *repeats]
            ratios = "  ".join(f"{f} {statistics.median(r[f] for r in runs) / rows[lo][f]:.2f}x" for f in FIGURES)
            print(f"{kind:<8} | {hi:,} over {lo:,}, median of {len(runs)}: {ratios}", flush=True)
        runs = [r for r in [rows[hi], *repeats] if "control" in r]
        if runs:  # the same calls on the two workspaces, taken in turn: the machine's state cancels out
            ratios = "  ".join(
                f"{f} {statistics.median(r[f] / r['control'][f] for r in runs):.2f}x" for f in FIGURES)
            print(f"{kind:<8} | {hi:,} over {CONTROL:,} measured beside it, median of {len(runs)}: {ratios}", flush=True)


if __name__ == "__main__":
    main()
