"""Email templates: every kind renders a subject, a plain-text part and an HTML part; HTML
escapes what users typed; missing values and unsafe links fail at enqueue time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnipostr.notify.render import KINDS, render

LINK = "https://app.omnipostr.test/verify?token=AbC123&next=%2Fhome"

CONTEXTS = {
    "verify_email": {"name": "Ada", "link": LINK, "hours": 48},
    "reset_password": {"name": "Ada", "link": LINK, "minutes": 60},
    "password_changed": {"name": "Ada", "when": datetime(2026, 3, 4, 5, 6, tzinfo=UTC), "ip": "203.0.113.9", "browser": "Firefox 140"},
    "new_device_login": {"name": "Ada", "when": "2026-03-04 05:06 UTC", "ip": "203.0.113.9", "browser": "Chrome 142", "os": "macOS", "link": LINK},
    "invite": {"inviter_name": "Grace", "workspace_name": "Engines", "role": "member", "link": LINK, "days": 7},
    "email_change_verify": {"name": "Ada", "link": LINK},
    "email_changed_notice": {"name": "Ada", "new_email": "ada.new@example.com", "link": LINK},
    "account_exists": {"name": "Ada", "login_link": LINK, "reset_link": LINK},
    "privacy_request_code": {"code": "042917", "minutes": 10, "kind_name": "Access to my data", "reference": 12},
    "notice": {"subject": "Your export is ready", "paragraphs": ["It has 3 files.", "It expires in 7 days."], "link": LINK, "link_text": "Download"},
    "marketing": {"subject": "Scheduling is here", "paragraphs": ["It has 3 files."], "name": "Ada",
                  "unsubscribe_link": "https://app.omnipostr.test/unsubscribe/marketing.1.abc", "settings_link": LINK},
    "billing_receipt": {"name": "Ada", "workspace": "Engines", "link": LINK,
                        "invoice": {"number": "OP-0001", "amount": "$19.00", "url": LINK,
                                    "date": datetime(2026, 3, 4, 5, 6, tzinfo=UTC)}},
    "billing_payment_problem": {"name": "Ada", "workspace": "Engines", "link": LINK, "action_required": False,
                                "invoice": {"number": "OP-0002", "amount": "$19.00", "url": LINK,
                                            "date": datetime(2026, 4, 4, 5, 6, tzinfo=UTC)}},
    "billing_plan_changed": {"name": "Ada", "workspace": "Engines", "before": "Free", "after": "Pro", "link": LINK},
    "billing_trial_ending": {"name": "Ada", "workspace": "Engines", "plan": "Pro", "link": LINK,
                             "trial_end": datetime(2026, 3, 7, 5, 6, tzinfo=UTC)},
    "breach_notice": {"name": "Ada", "reference": 3, "what_happened": "A backup copy was exposed.\n\nIt held 3 files.",
                      "occurred": datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "discovered": datetime(2026, 3, 4, 5, 6, tzinfo=UTC),
                      "data_affected": ["Account", "Sessions and devices"], "consequences": "Phishing email is possible.",
                      "measures": "We closed the copy and rotated the keys.", "advice": "Change your password.",
                      "privacy_email": "privacy@omnipostr.com"},
}


def test_every_kind_has_a_test_context():
    assert set(CONTEXTS) == set(KINDS)


@pytest.mark.promise("COM-1")
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_renders_text_and_html(kind):
    r = render(kind, CONTEXTS[kind])
    assert r.subject and "\n" not in r.subject
    assert r.text.strip() and "<p>" not in r.text
    assert r.html.lstrip().startswith("<!DOCTYPE html>") and f"<title>{r.subject}</title>" in r.html
    assert "support@omnipostr.com" in r.text and "support@omnipostr.com" in r.html
    ctx = CONTEXTS[kind]
    for key in ("link", "login_link"):
        if key in ctx:
            assert ctx[key] in r.text  # plain text carries the link verbatim
            assert ctx[key].replace("&", "&amp;") in r.html  # attribute-escaped in HTML
    for value in ("Ada", "Grace", "Engines", "203.0.113.9", "Chrome 142", "macOS", "It has 3 files."):
        if value in ctx.values() or value in ctx.get("paragraphs", []):
            assert value in r.text and value in r.html


def test_dates_are_written_in_utc():
    r = render("password_changed", CONTEXTS["password_changed"])
    assert "2026-03-04 05:06 UTC" in r.text and "2026-03-04 05:06 UTC" in r.html


def test_html_escapes_user_provided_names_and_text_keeps_them():
    evil = '<script>alert("x")</script> & <b>Bob</b>'
    r = render("invite", {**CONTEXTS["invite"], "inviter_name": evil, "workspace_name": "<img src=x onerror=alert(1)>"})
    assert "<script>" not in r.html and "<img src=x" not in r.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Bob&lt;/b&gt;" in r.html
    assert evil in r.text  # the plain-text part is not HTML
    r = render("notice", {"subject": "Hi", "paragraphs": ["<a href='javascript:x'>click</a>"]})
    assert "<a href='javascript:x'>" not in r.html and "&lt;a href=" in r.html


def test_subject_cannot_inject_headers():
    r = render("notice", {"subject": "Hello\r\nBcc: victim@example.com", "paragraphs": ["x"]})
    assert r.subject == "Hello Bcc: victim@example.com"


def test_new_address_is_masked_in_the_change_notice():
    r = render("email_changed_notice", CONTEXTS["email_changed_notice"])
    assert "a***@example.com" in r.text and "ada.new@example.com" not in r.text
    assert "ada.new@example.com" not in r.html


def test_missing_values_and_unknown_kinds_fail():
    with pytest.raises(ValueError, match="needs link"):
        render("verify_email", {"name": "Ada"})
    with pytest.raises(ValueError, match="unknown email kind"):
        render("no_such_kind", {})


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "/relative/path", "data:text/html,x", "https://x.test/a b"])
def test_links_must_be_absolute_http_urls(bad):
    with pytest.raises(ValueError, match="absolute http"):
        render("verify_email", {"name": "Ada", "link": bad})


def test_unsubscribe_link_only_when_given():
    plain = render("notice", {"subject": "News", "paragraphs": ["x"]})
    assert "Unsubscribe" not in plain.text and "Unsubscribe" not in plain.html
    unsub = "https://app.omnipostr.test/unsubscribe?token=u1"
    r = render("notice", {"subject": "News", "paragraphs": ["x"], "unsubscribe_link": unsub})
    assert unsub in r.text and unsub in r.html
