"""Billing tests run against the loopback Stripe, through the real SDK, with its webhooks
posted over HTTP to the app's own routes (served on loopback): only the base URL differs
from production."""

from __future__ import annotations

import pytest

from fakes.loopback import LoopbackServer
from fakes.stripe_server import FakeStripe
from omnipostr.billing import plans
from omnipostr.settings import reset_settings

SECRET = "whsec_omnipostr_tests"  # noqa: S105 (a test credential)


class AppRoutes(LoopbackServer):
    """The app's HTTP routes (``omnipostr.omnipostr.api``) on a loopback port."""

    thread_name = "app-routes"

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", 0
        self._init_server()

    def _asgi_app(self):
        from omnipostr.omnipostr import api

        return api


@pytest.fixture(scope="session")
def _stripe_servers():
    app = AppRoutes().start()
    fake = FakeStripe(webhook_url=app.base_url + "/billing/webhook", webhook_secret=SECRET,
                      webhook_retries=(0.05, 0.2)).start()
    yield fake, app
    fake.stop()
    app.stop()


@pytest.fixture
def stripe(_stripe_servers, monkeypatch):
    """Billing on, against a fresh loopback Stripe."""
    fake, _app = _stripe_servers
    fake.reset()
    monkeypatch.setenv("OMNIPOSTR_STRIPE_SECRET_KEY", fake.api_key)
    monkeypatch.setenv("OMNIPOSTR_STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("OMNIPOSTR_STRIPE_API_BASE", fake.base_url)
    reset_settings()
    plans.reset()
    yield fake
    fake.reset()
    monkeypatch.undo()
    reset_settings()
    plans.reset()


@pytest.fixture
def app_url(_stripe_servers) -> str:
    return _stripe_servers[1].base_url
