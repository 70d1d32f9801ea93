"""Privacy requests as people make them: a visitor without an account confirms with the emailed
code (a wrong code counts), a member files from the privacy center at once, and each sees the
due date; the member follows the request's status in the privacy center."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import _text
from tests.e2e.helpers import sign_up
from tests.e2e.test_accessibility import serious


def emailed_code(smtp, to: str) -> str:
    msg = smtp.wait_for(lambda m: to in str(m["To"]) and "Confirm your privacy request" in str(m["Subject"]))
    return re.search(r"^\s*(\d{6})\s*$", _text(msg), re.M).group(1)


@pytest.mark.promise("REQ-1", "REQ-2")
def test_a_visitor_files_a_question_confirmed_with_the_emailed_code(page: Page, smtp, shots):
    page.goto("/contact")
    page.get_by_role("link", name="Make a privacy request").click()
    expect(page.get_by_role("heading", name="Make a privacy request")).to_be_visible()
    page.get_by_label("What are you asking for?").select_option(label="A question about privacy")
    page.get_by_label("Your email address").fill("visitor@example.com")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert").filter(has_text="Write your question.")).to_be_visible()  # nothing lost
    expect(page.get_by_label("Your email address")).to_have_value("visitor@example.com")
    page.get_by_label("Details").fill("Do you keep my articles after I delete my account?")
    page.get_by_role("button", name="Send request").click()

    expect(page.get_by_text("We sent a 6-digit code to")).to_contain_text("v***@example.com")
    code = emailed_code(smtp, "visitor@example.com")
    wrong = "000000" if code != "000000" else "111111"
    page.get_by_role("textbox", name="Code").fill(wrong)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That code is not right. 2 tries left.")).to_be_visible()
    page.screenshot(path=str(shots / "privacy-request-code.png"))
    assert serious(page) == []
    page.get_by_role("textbox", name="Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").filter(has_text="Request confirmed.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"A question about privacy: we answer by \d{2} \w{3} \d{4}"))).to_be_visible()
    page.screenshot(path=str(shots / "privacy-request-done.png"))
    ack = smtp.wait_for(lambda m: "visitor@example.com" in str(m["To"]) and "Confirm" not in str(m["Subject"]))
    assert "business days" in _text(ack) or re.search(r"\d{4}", _text(ack))


@pytest.mark.promise("REQ-1")
def test_a_member_files_at_once_and_follows_it_in_the_privacy_center(page: Page, smtp):
    sign_up(page, smtp, email="mira@example.com", name="Mira Member")
    page.goto("/settings/privacy")
    section = page.get_by_role("region", name="Your privacy requests")
    expect(section).to_contain_text("You have made no privacy request.")
    section.get_by_role("link", name="Make a privacy request").click()
    expect(page.get_by_label("Your email address")).to_have_value("mira@example.com")
    page.get_by_label("What are you asking for?").select_option(label="Objection to the processing of my data")
    page.get_by_label("Details").fill("I object to any profiling of my posts.")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status").filter(has_text="Request confirmed.")).to_be_visible()
    page.get_by_role("link", name="privacy center", exact=True).click()
    section = page.get_by_role("region", name="Your privacy requests")
    expect(section).to_contain_text("Objection to the processing of my data")
    expect(section).to_contain_text("answer due")
    section.get_by_text("Objection to the processing of my data").click()
    expect(section).to_contain_text("Identity confirmed: filed while signed in")
