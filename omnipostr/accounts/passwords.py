"""Password hashing (argon2id) and the password rules.

The rules follow current guidance (NIST SP 800-63B): a minimum length, no composition rules,
a check against a list of common passwords shipped with the product, and no password that is
just the user's own name or address.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from omnipostr.settings import get_settings

MAX_LENGTH = 256

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash of a random password, checked when an address is unknown so that a sign-in takes
# as long for an unknown address as for a known one.
_DUMMY_HASH = _hasher.hash("not a real password: timing equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _burn(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _burn(password: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def _common() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a new password is not acceptable, as a sentence; None when it is fine."""
    min_len = get_settings().min_password_length
    pw = unicodedata.normalize("NFC", password)
    if len(pw) < min_len:
        return f"Use at least {min_len} characters. A few unrelated words make a strong password."
    if len(pw) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    low = pw.lower()
    if low in _common() or low.strip("0123456789!.") in _common():
        return "That password is one of the most common ones. Choose something less predictable."
    if len(set(low)) <= 2:
        return "That password repeats the same characters. Choose something less predictable."
    local = email.split("@")[0].lower() if email else ""
    if (local and len(local) >= 4 and local in low and len(low) - len(local) < 6) or (
        email and low == email.lower()
    ):
        return "Your password must not be based on your email address."
    if name and low.replace(" ", "") == name.lower().replace(" ", ""):
        return "Your password must not be your name."
    return None
