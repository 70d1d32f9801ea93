"""Checks on what people type into account forms. Each failure is a sentence for the user."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")


class InputError(ValueError):
    """Bad input, with a message for the user and the form field it belongs to."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def clean_text(raw: str | None, *, label: str, field: str, max_length: int = 100) -> str:
    """One-line text such as a name: NFC, control characters removed, spaces collapsed."""
    value = unicodedata.normalize("NFC", raw or "")
    value = _SPACES.sub(" ", _CONTROL.sub("", value)).strip()
    if not value:
        raise InputError(f"{label} is required.", field)
    if len(value) > max_length:
        raise InputError(
            f"{label} can be at most {max_length} characters (this one has {len(value):,}).", field
        )
    return value


def normalize_email(raw: str | None, field: str = "email") -> str:
    value = (raw or "").strip()
    if not value:
        raise InputError("Email is required.", field)
    if len(value) > 254:
        raise InputError("That email address is too long.", field)
    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise InputError("Enter a valid email address, like name@example.com.", field) from None
    return info.normalized.lower()
