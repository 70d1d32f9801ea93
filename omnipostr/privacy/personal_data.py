"""The personal data the privacy center keeps (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlmodel import col, select

from omnipostr.personal_data import Holding, pick
from omnipostr.privacy import requests
from omnipostr.privacy.models import ConsentRecord, DataExport, PrivacyRequest, PrivacyRequestEvent


def _exports(s, user) -> list[dict]:
    rows = s.exec(select(DataExport).where(DataExport.user_id == user.id).order_by(col(DataExport.id))).all()
    return [pick(r, "status", "size", "created_at", "ready_at", "expires_at", "downloaded_at") for r in rows]


def _consents(s, user) -> list[dict]:
    rows = s.exec(select(ConsentRecord).where(ConsentRecord.user_id == user.id).order_by(col(ConsentRecord.id))).all()
    return [pick(r, "consent_id", "analytics", "preferences", "gpc", "source", "policy_version", "created_at") for r in rows]


def _requests(s, user) -> list[dict]:
    """The user's privacy requests (never the hash of a code)."""
    rows = s.exec(requests.of_user(user).order_by(col(PrivacyRequest.id))).all()
    return [pick(r, "id", "kind", "channel", "email", "details", "status", "created_at", "verified_at", "due_at",
                 "extended_at", "extension_reason", "closed_at", "close_reason") for r in rows]


def _request_events(s, user) -> list[dict]:
    """The history of the user's privacy requests."""
    ids = requests.of_user(user).with_only_columns(col(PrivacyRequest.id))
    rows = s.exec(
        select(PrivacyRequestEvent).where(col(PrivacyRequestEvent.request_id).in_(ids))
        .order_by(col(PrivacyRequestEvent.request_id), col(PrivacyRequestEvent.id))
    ).all()
    return [pick(e, "request_id", "at", "status", "note", "actor") for e in rows]


HOLDINGS = [
    Holding("data_exports", "privacy", "The copies of your data you asked for, until their link expires.",
            "Give you your data.", "legal obligation: your right of access", "export", _exports),
    Holding("consent_records", "consent", "Each cookie and analytics choice you made, with its time and policy version.",
            "Prove what you chose, and honour it.", "legal obligation: records of consent", "consent", _consents,
            erase="anonymise"),
    Holding("privacy_requests", "privacy", "The privacy requests and questions you sent us: what you asked, the "
            "address we answer, your words, and how far each one got. The code that confirmed your address is kept "
            "only as a one-way hash, for 10 minutes.",
            "Answer your requests in time, and show that we did.",
            "legal obligation: answering and recording privacy requests", "history", _requests, erase="anonymise"),
    Holding("privacy_request_events", "privacy", "The history of each of your privacy requests: each step, when, "
            "and the notes we wrote to you.", "Answer your requests in time, and show that we did.",
            "legal obligation: answering and recording privacy requests", "history", _request_events,
            erase="anonymise"),
]

NOT_PERSONAL: dict[str, str] = {
    "policy_versions": "The published versions of the privacy policy: the same for everyone.",
}
