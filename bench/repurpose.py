"""Repurpose a 2,000-word article into all ten platforms against the loopback Claude
(800 ms to first token, 60 tokens/s by default) and print the figures.

    .venv/bin/python bench/repurpose.py            # everything, including Chromium
    .venv/bin/python bench/repurpose.py --no-browser

Figures (the output format is stable, so runs can be compared):
- wall time of all ten platforms, the slowest single platform run alone, and their ratio;
- app overhead: the all-platforms wall time minus the longest time one platform spent
  waiting on Claude (first request sent to last token received), i.e. what the app adds;
- click to first streamed token visible in Chromium, against the real app;
- input tokens billed at full price with prompt caching and without it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_TMP = Path(tempfile.mkdtemp(prefix="omnipostr-bench-"))
os.environ["OMNIPOSTR_DATA_DIR"] = str(_TMP)
os.environ["OMNIPOSTR_KEYS_DIR"] = str(_TMP / "keys")
os.environ["OMNIPOSTR_DATABASE_URL"] = f"sqlite:///{_TMP / 'bench.db'}"
os.environ["OMNIPOSTR_ENV"] = "test"
os.environ["OMNIPOSTR_JOBS_ENABLED"] = "false"

from sqlmodel import select  # noqa: E402

from fakes.anthropic_server import FakeAnthropic  # noqa: E402
from omnipostr import clock, db, migrate  # noqa: E402
from omnipostr.accounts import service as accounts  # noqa: E402
from omnipostr.accounts.models import User, Workspace  # noqa: E402
from omnipostr.repurpose import platforms, runner  # noqa: E402
from omnipostr.repurpose import service as compose  # noqa: E402
from omnipostr.repurpose.engines.base import Done, Failed  # noqa: E402
from omnipostr.repurpose.engines.claude import ClaudeEngine  # noqa: E402
from omnipostr.repurpose.models import Generation  # noqa: E402
from omnipostr.settings import Settings  # noqa: E402

ARTICLES = ROOT / "tests" / "fixtures" / "articles"
PASSWORD = "bench mark pass phrase 42"


def article(words: int) -> str:
    """About ``words`` words of real prose: the fixture articles, cut at a paragraph."""
    out, n = [], 0
    for path in sorted(ARTICLES.glob("*.md")):
        for para in path.read_text().split("\n\n"):
            if n >= words:
                break
            out.append(para)
            n += len(para.split())
    return "\n\n".join(out)


class TimedEngine:
    """The Claude engine, with the time each platform spends on Claude written down."""

    def __init__(self, engine: ClaudeEngine):
        self.engine = engine
        self.name = engine.name
        self.model = engine.model
        self.spans: dict[str, float] = {}

    async def stream(self, source, platform, options, *, feedback=None):
        t0 = time.perf_counter()
        async for ev in self.engine.stream(source, platform, options, feedback=feedback):
            if isinstance(ev, Done | Failed):
                self.spans[platform] = self.spans.get(platform, 0.0) + time.perf_counter() - t0
            yield ev


def actor() -> accounts.Actor:
    form = accounts.SignUpForm("Bench", "bench@example.com", PASSWORD, "Bench", True, True)
    db.in_session(accounts.sign_up, form)
    with db.session() as s:
        user = s.exec(select(User)).first()
        user.email_verified_at = clock.now()
        token, _ = accounts.start_session(s, user, accounts.ClientInfo())
        return accounts.resolve_session(s, token).actor


async def run_once(engine: TimedEngine, who, text: str, plats: list[str]) -> tuple[float, Generation]:
    gen = db.in_session(compose.start_generation, who, compose.ComposeRequest(text=text, platforms=plats), engine="claude", model=engine.model)
    t0 = time.perf_counter()
    status = await runner.run(gen.id, engine=engine)
    wall = time.perf_counter() - t0
    with db.session() as s:
        g = s.get(Generation, gen.id)
    if status != "done":
        raise SystemExit(f"generation ended {status}: {g.error}")
    return wall, g


async def backend(fake: FakeAnthropic, text: str) -> dict:
    migrate.upgrade()
    who = actor()
    with db.session() as s:  # the benchmark generates more than a free plan's month
        ws = s.get(Workspace, who.workspace_id)
        ws.plan = "business"
        s.add(ws)
    settings = Settings(anthropic_api_key="sk-ant-bench", anthropic_base_url=fake.base_url, claude_concurrency=10)
    all_ids = list(platforms.PLATFORMS)

    engine = TimedEngine(ClaudeEngine(settings))
    fake.clear_cache()
    wall_all, g_all = await run_once(engine, who, text, all_ids)
    longest_on_claude = max(engine.spans.values())

    alone: dict[str, float] = {}
    for p in all_ids:
        fake.clear_cache()
        solo = TimedEngine(engine.engine)
        alone[p], _ = await run_once(solo, who, text, [p])
    slowest = max(alone, key=alone.get)

    fake.clear_cache()
    fake.configure(cache_min_tokens=10**9)  # nothing is cacheable: every input token at full price
    _, g_nocache = await run_once(TimedEngine(engine.engine), who, text, all_ids)
    fake.configure(cache_min_tokens=1024)
    await engine.engine.aclose()
    return {
        "wall_all": wall_all,
        "slowest": (slowest, alone[slowest]),
        "overhead_ms": (wall_all - longest_on_claude) * 1000,
        "cached": (g_all.input_tokens, g_all.cache_write_tokens, g_all.cache_read_tokens, g_all.cost_usd),
        "uncached": (g_nocache.input_tokens, g_nocache.cost_usd),
    }


def start_bench_app(sink, extra: dict[str, str] | None = None):
    """The real app, as ``make run`` starts it, mailing the benchmark's SMTP sink, with a
    front-end build directory of the benchmarks' own."""
    from tests.e2e.liveapp import start_app

    return start_app(
        {
            "OMNIPOSTR_SMTP_HOST": "127.0.0.1",
            "OMNIPOSTR_SMTP_PORT": str(sink.port),
            "OMNIPOSTR_SMTP_STARTTLS": "false",
            "OMNIPOSTR_TEST_WEB_DIR": ".web-bench",
            "REFLEX_WEB_WORKDIR": ".web-bench",
            **(extra or {}),
        },
        _TMP,
    )


def sign_up(page, sink, email: str) -> None:
    """Create an account in the browser and confirm it from the mail: the page ends on /app."""
    page.goto("/signup")
    page.get_by_label("Your name").fill("Bench")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Team or company name").fill("Bench")
    page.get_by_label("I am 16 years of age or older.").check()
    page.get_by_label("I have read and accept the privacy policy.").check()
    page.get_by_role("button", name="Create account").click()
    msg = sink.wait_for(lambda m: email in str(m["To"]), timeout=30)
    link = re.search(r"https?://\S+/verify\?token=\S+", msg.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    page.wait_for_url(re.compile(r".*/app.*"))


def worker_ready(app, timeout: float = 60.0) -> None:
    """Wait until the app's generation worker takes work (it starts beside the pages, a moment
    after them); the clicks are timed on an app that is up, not one still starting."""
    deadline = time.monotonic() + timeout
    while "takes work" not in app.log_path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit("the app's generation worker did not start")
        time.sleep(0.2)


def browser(fake: FakeAnthropic, text: str, runs: int = 3) -> list[float]:
    """Click "Generate posts" in Chromium and time until the first streamed text shows."""
    from playwright.sync_api import expect, sync_playwright

    from fakes.smtp_sink import SmtpSink
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.e2e.liveapp import stop_app

    sink = SmtpSink().start()
    app = start_bench_app(sink, {"ANTHROPIC_API_KEY": "sk-ant-bench", "OMNIPOSTR_ANTHROPIC_BASE_URL": fake.base_url})
    worker_ready(app)
    timings = []
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = b.new_page(base_url=app.url, viewport={"width": 1280, "height": 900})
            sign_up(page, sink, "browser@example.com")
            for run in range(runs):
                fake.clear_cache()
                page.goto("/app")
                page.get_by_role("button", name="None", exact=True).click()
                page.get_by_role("group", name="Platforms").get_by_role("button", name="LinkedIn", exact=True).click()
                # a text not seen before: nothing of it is parsed already
                page.get_by_label("Your article or script").fill(f"{text}\n\nThis is run {run + 1} of {runs}.")
                page.wait_for_timeout(400)
                page.evaluate(
                    """() => {
                    window.__firstToken = null;
                    const btn = [...document.querySelectorAll('button')].find(b => b.textContent.includes('Generate posts'));
                    btn.addEventListener('click', () => { window.__click = performance.now(); }, {capture: true, once: true});
                    new MutationObserver((_, obs) => {
                        const el = document.querySelector('[data-status=streaming] .op-post-text');
                        if (el && el.textContent.trim() && window.__firstToken === null) {
                            window.__firstToken = performance.now(); obs.disconnect();
                        }
                    }).observe(document.body, {subtree: true, childList: true, characterData: true});
                }"""
                )
                page.get_by_role("button", name="Generate posts").click()
                page.wait_for_function("window.__firstToken !== null", timeout=30_000)
                timings.append(page.evaluate("window.__firstToken - window.__click") / 1000)
                expect(page.locator("[data-status=done]")).to_have_count(1, timeout=60_000)
            b.close()
    finally:
        stop_app(app.proc)
        sink.stop()
    return timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ttft", type=float, default=0.8)
    ap.add_argument("--tps", type=float, default=60.0)
    ap.add_argument("--words", type=int, default=2000)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    text = article(args.words)
    words = len(text.split())
    with FakeAnthropic(ttft=args.ttft, tps=args.tps) as fake:
        r = asyncio.run(backend(fake, text))
        clicks = [] if args.no_browser else browser(fake, text)
    target_click = args.ttft + 0.150
    name, slow = r["slowest"]
    in_c, write_c, read_c, cost_c = r["cached"]
    in_u, cost_u = r["uncached"]
    print(f"OmniPostr repurpose benchmark (fake Claude: first token {args.ttft * 1000:.0f} ms, {args.tps:.0f} tokens/s; "
          f"article {words} words; {len(platforms.PLATFORMS)} platforms)")
    print(f"all platforms, wall time            {r['wall_all']:8.2f} s")
    print(f"slowest platform alone              {slow:8.2f} s   ({name})")
    print(f"ratio                               {r['wall_all'] / slow:8.2f}     (target <= 1.15)")
    print(f"app overhead                        {r['overhead_ms']:8.0f} ms")
    if clicks:
        print(f"click to first token in Chromium    {statistics.median(clicks):8.2f} s   "
              f"(median of {len(clicks)}; target <= {target_click:.2f} s = first token + 150 ms)")
    print(f"input tokens at full price, cached  {in_c:8,}     (+ {write_c:,} cache write, {read_c:,} cache read; ${cost_c:.4f})")
    print(f"input tokens at full price, uncached{in_u:8,}     (${cost_u:.4f})")


if __name__ == "__main__":
    main()
