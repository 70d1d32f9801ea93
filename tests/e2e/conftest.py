"""The browser suite: the real app, started the way ``make run`` starts it (``reflex run --env
prod --single-port``), on a free port, with this run's temporary database (shared with the
test process, which reads it directly), an SMTP sink for mail, and Debian's Chromium.

Run it as its own pytest invocation (``make test`` does): Playwright's sync API and the
asyncio tests of the rest of the suite do not share one process well.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fakes.anthropic_server import FakeAnthropic
from fakes.smtp_sink import SmtpSink
from fakes.stripe_server import FakeStripe
from omnipostr.privacy import consent, versions
from tests.e2e.liveapp import LiveApp, free_port, start_app, stop_app

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


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def _smtp_env(smtp: SmtpSink) -> dict[str, str]:
    return {
        "OMNIPOSTR_SMTP_HOST": "127.0.0.1",
        "OMNIPOSTR_SMTP_PORT": str(smtp.port),
        "OMNIPOSTR_SMTP_STARTTLS": "false",
    }


# The apps are module-scoped: one module's app stops before the next one's starts (they
# share the project's front-end build directory).
@pytest.fixture(scope="module")
def live_app(smtp, tmp_path_factory) -> Iterator[LiveApp]:
    """The app on its embedded defaults (the offline engine)."""
    app = start_app(_smtp_env(smtp), tmp_path_factory.mktemp("app"))
    yield app
    stop_app(app.proc)


@pytest.fixture(scope="module")
def fake_claude() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(ttft=0.8, tps=60) as fake:
        yield fake


@pytest.fixture(scope="module")
def claude_app(smtp, fake_claude, tmp_path_factory) -> Iterator[LiveApp]:
    """The app with Claude configured, pointed at the loopback Anthropic API."""
    app = start_app(
        {
            **_smtp_env(smtp),
            "ANTHROPIC_API_KEY": "sk-ant-browser-tests",
            "OMNIPOSTR_ANTHROPIC_BASE_URL": fake_claude.base_url,
            "OMNIPOSTR_CLAUDE_MAX_RETRIES": "2",
        },
        tmp_path_factory.mktemp("claude-app"),
    )
    yield app
    stop_app(app.proc)


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe(webhook_secret="whsec_browser_tests") as fake:  # noqa: S106 (a test credential)
        yield fake


@pytest.fixture(scope="module")
def stripe_app(smtp, fake_stripe, tmp_path_factory) -> Iterator[LiveApp]:
    """The app with billing on, pointed at the loopback Stripe (whose webhooks reach it)."""
    port = free_port()
    fake_stripe.configure(webhook_url=f"http://localhost:{port}/billing/webhook")
    app = start_app(
        {
            **_smtp_env(smtp),
            "OMNIPOSTR_STRIPE_SECRET_KEY": fake_stripe.api_key,
            "OMNIPOSTR_STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
            "OMNIPOSTR_STRIPE_API_BASE": fake_stripe.base_url,
        },
        tmp_path_factory.mktemp("stripe-app"),
        port=port,
    )
    yield app
    stop_app(app.proc)


@pytest.fixture(scope="module")
def private_urls_app(smtp, tmp_path_factory) -> Iterator[LiveApp]:
    """The app allowed to import links from loopback and private addresses (the article
    server of the URL-import tests runs on 127.0.0.1)."""
    app = start_app({**_smtp_env(smtp), "OMNIPOSTR_ALLOW_PRIVATE_URLS": "true"}, tmp_path_factory.mktemp("private-urls-app"))
    yield app
    stop_app(app.proc)


@pytest.fixture(scope="module")
def mailless_app(tmp_path_factory) -> Iterator[LiveApp]:
    """The app as ``make run`` starts it with nothing configured: no SMTP server, so mail stays
    on the machine and the operator reads it at the mailbox address printed at start-up."""
    app = start_app({"OMNIPOSTR_SMTP_HOST": ""}, tmp_path_factory.mktemp("mailless-app"))
    yield app
    stop_app(app.proc)


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where tests save the screenshots people look at: $OMNIPOSTR_SCREENSHOT_DIR, or a
    temporary folder."""
    folder = os.environ.get("OMNIPOSTR_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def _clear_mail(smtp):
    smtp.clear()
    yield


@pytest.fixture
def app(request) -> LiveApp:
    """Whichever app the test asked for (a fixture named ``*_app``: ``claude_app``,
    ``mailless_app``, ...), else ``live_app``. Only one app runs at a time."""
    for name in request.fixturenames:
        if name.endswith("_app") and name != "live_app":
            return request.getfixturevalue(name)
    return request.getfixturevalue("live_app")



@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def undecided() -> None:
    """Ask for it and the browser starts as a visitor who has made no cookie choice yet; else
    each browser starts with analytics and preferences refused, as most people choose (and
    the banner stays out of the way of what the test does)."""


@pytest.fixture
def browser_context_args(browser_context_args, app, request):
    args = {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "base_url": app.url}
    if "undecided" not in request.fixturenames:
        choice = consent.Choice(secrets.token_hex(16), False, False, versions.shipped_version())
        host = urlsplit(app.url).hostname
        args["storage_state"] = {
            "cookies": [{"name": consent.COOKIE, "value": choice.cookie(), "domain": host, "path": "/",
                         "expires": -1, "httpOnly": False, "secure": False, "sameSite": "Lax"}],
            "origins": [],
        }
    return args


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
def new_page(browser, app, browser_context_args):
    """Another browser (its own cookies), e.g. a teammate or a second device."""
    contexts = []

    def make(**kwargs):
        ctx = browser.new_context(**{**browser_context_args, **kwargs})
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
