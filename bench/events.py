"""How long a composer event takes, click to DOM change, beside the same event on a bare
Reflex app built and served the same way, in one run on one machine.

The composer's event is a platform chip toggled on the page a signed-in creator works on:
a 3,000-word article in the box and a finished generation of five posts below it (the
large values an unrelated event must not drag along). The bare app (``bench/bare_app``) is
one page with a row of the same chips and nothing else. Both are started with ``reflex run
--env prod --single-port`` and driven by the same Chromium; each click is timed in the page
from the click to the chip's ``aria-pressed`` changing.

    .venv/bin/python bench/events.py [--clicks 200]

Figures (the output format is stable, so runs can be compared): p50, p95 and max in ms for
each app, then the ratio of the composer's p50 and p95 to the bare app's (target: at most
1.3).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import httpx  # noqa: E402
from repurpose import _TMP, article, sign_up, start_bench_app  # noqa: E402  (sets up a scratch data folder and database)

BARE = ROOT / "bench" / "bare_app"

# Note when the first message from the server arrives after a click (the state's delta):
# what comes before it is the network and the server, what comes after it the page's render.
WATCH_SOCKET = """(() => {
    const Native = window.WebSocket;
    window.WebSocket = function (...a) {
        const ws = new Native(...a);
        ws.addEventListener('message', () => {
            if (window.__armed) { window.__armed = false; window.__delta = performance.now(); }
        });
        return ws;
    };
    window.WebSocket.prototype = Native.prototype;
    Object.assign(window.WebSocket, Native);
})();"""

# Click the chip named ``name`` ``n`` times (after ``warm`` unmeasured clicks), one at a time:
# each click waits for its DOM change and a short pause, as a person's clicks would. Each
# click gives [click to DOM change, click to the server's answer].
MEASURE = """async ([name, n, warm]) => {
    const chip = () => [...document.querySelectorAll('[role=group][aria-label=Platforms] button')]
        .find(b => b.textContent.trim().endsWith(name));
    const once = () => new Promise(resolve => {
        const el = chip();
        const before = el.getAttribute('aria-pressed');
        const obs = new MutationObserver(() => {
            if (chip().getAttribute('aria-pressed') !== before) {
                obs.disconnect();
                resolve([performance.now() - t0, (window.__delta ?? NaN) - t0]);
            }
        });
        obs.observe(document.body, {subtree: true, attributes: true, attributeFilter: ['aria-pressed']});
        window.__armed = true;
        window.__delta = null;
        const t0 = performance.now();
        el.click();
    });
    const out = [];
    for (let i = 0; i < warm + n; i++) {
        const ms = await once();
        if (i >= warm) out.push(ms);
        await new Promise(r => setTimeout(r, 40));
    }
    return out;
}"""


def start_bare(port: int) -> subprocess.Popen:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "REFLEX_USE_NPM": "1",
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_STATES_WORKDIR": str(_TMP / "bare-states"),
    }
    log = open(_TMP / "bare.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [str(venv_bin / "reflex"), "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=BARE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the bare app exited:\n" + (_TMP / "bare.log").read_text()[-3000:])
        try:
            if httpx.get(f"http://localhost:{port}/", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("the bare app did not start")


def figures(ms: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(ms, n=100)
    return statistics.median(ms), cuts[94], max(ms)


def split(clicks: list[list[float]]) -> tuple[list[float], list[float]]:
    """Click to DOM change; and of it, click to the server's answer."""
    return [c[0] for c in clicks], [c[1] for c in clicks if c[1] == c[1]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clicks", type=int, default=200)
    ap.add_argument("--warm", type=int, default=20)
    args = ap.parse_args()

    from playwright.sync_api import expect, sync_playwright

    from fakes.smtp_sink import SmtpSink
    from omnipostr import migrate
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.e2e.liveapp import free_port, stop_app

    migrate.upgrade()
    sink = SmtpSink().start()
    app = start_bench_app(sink)
    bare_port = free_port()
    bare = start_bare(bare_port)
    results = {}
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = b.new_page(base_url=app.url, viewport={"width": 1280, "height": 900})
            page.add_init_script(WATCH_SOCKET)
            sign_up(page, sink, "events@example.com")
            page.goto("/app")
            page.get_by_label("Your article or script").fill(article(3000))
            page.get_by_role("button", name="Generate posts").click()
            expect(page.locator("[data-status=done]")).to_have_count(5, timeout=60_000)
            page.wait_for_timeout(1000)
            results["composer"] = page.evaluate(MEASURE, ["Mastodon", args.clicks, args.warm])

            bare_page = b.new_page(viewport={"width": 1280, "height": 900})
            bare_page.add_init_script(WATCH_SOCKET)
            bare_page.goto(f"http://localhost:{bare_port}/")
            expect(bare_page.get_by_role("button", name="Mastodon")).to_be_visible()
            bare_page.wait_for_timeout(1000)
            results["bare"] = bare_page.evaluate(MEASURE, ["Mastodon", args.clicks, args.warm])
            b.close()
    finally:
        stop_app(app.proc)
        stop_app(bare)
        sink.stop()

    print(f"{'app':<9}| clicks | p50 ms | p95 ms | max ms | answer p50 ms | render p50 ms")
    for name in ("bare", "composer"):
        total, answer = split(results[name])
        p50, p95, top = figures(total)
        a50 = statistics.median(answer) if answer else float("nan")
        print(f"{name:<9}| {len(total):>6} | {p50:>6.1f} | {p95:>6.1f} | {top:>6.1f} | {a50:>13.1f} | {p50 - a50:>13.1f}")
    b50, b95, _ = figures(split(results["bare"])[0])
    c50, c95, _ = figures(split(results["composer"])[0])
    print(f"composer over bare: p50 {c50 / b50:.2f}x  p95 {c95 / b95:.2f}x  (target 1.3x)")


if __name__ == "__main__":
    main()
