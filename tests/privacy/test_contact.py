"""The contact page's addresses and response times, and the list of service providers, come
from the configuration."""

from __future__ import annotations

import contextlib

import pytest

from omnipostr.privacy import contact, inventory
from omnipostr.settings import reset_settings


@contextlib.contextmanager
def configured(monkeypatch, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    reset_settings()
    try:
        yield
    finally:
        monkeypatch.undo()
        reset_settings()


@pytest.mark.promise("CTC-1")
def test_the_contact_page_says_what_the_configuration_says(monkeypatch):
    with configured(monkeypatch, OMNIPOSTR_PRIVACY_EMAIL="dpo@example.org", OMNIPOSTR_SUPPORT_EMAIL="help@example.org",
                    OMNIPOSTR_SUPPORT_RESPONSE_BUSINESS_DAYS="1"):
        lines = contact.contacts()
    assert [(a, w) for _, a, w in lines] == [
        ("dpo@example.org", "We answer within 5 business days."),
        ("dpo@example.org", 'Write with the subject "Privacy Rights Request", or use the request form on this site (no account needed). '
                            "We answer within 30 days."),
        ("help@example.org", "We answer within 1 business day."),
    ]


@pytest.mark.promise("SHR-1")
def test_the_service_providers_are_exactly_the_ones_configured(monkeypatch):
    with configured(monkeypatch, OMNIPOSTR_SMTP_HOST="", ANTHROPIC_API_KEY=""):
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        monkeypatch.delenv("OMNIPOSTR_ANTHROPIC_API_KEY", raising=False)
        reset_settings()
        assert [n for n, _ in inventory.processors()] == ["Database and hosting provider"]
    with configured(monkeypatch, OMNIPOSTR_SMTP_HOST="smtp.mail.example", ANTHROPIC_API_KEY="sk-ant-test"):
        assert [n for n, _ in inventory.processors()] == [
            "Anthropic (Claude)", "Mail provider (smtp.mail.example)", "Database and hosting provider",
        ]
