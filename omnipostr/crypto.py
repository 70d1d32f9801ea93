"""Encryption at rest for content columns, and hashing of tokens.

``ContentText`` is the one column type for anything a user wrote or had generated: sources,
variants, support messages. It stores Fernet tokens (AES-128-CBC + HMAC-SHA256) made with
the newest key in ``Settings.fernet_keys()`` and reads any of them, so a key can be rotated
by putting a new one first, re-encrypting (``rotate_column``) and dropping the old one.
Keys live outside the database (environment or a key file in the data directory).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from omnipostr.settings import get_settings


@functools.cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in get_settings().fernet_keys()])


def reset_keys() -> None:
    _fernet.cache_clear()


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as e:  # a key was dropped before the data was re-encrypted
        raise ValueError("content cannot be decrypted with the configured keys") from e


def reencrypt(token: str) -> str:
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


class ContentText(TypeDecorator):
    """Text that is encrypted in the database and plain in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)


# --- tokens -------------------------------------------------------------------------------


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token for sessions, links and keys."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """What the database keeps of a token: a keyed SHA-256, so a leaked table is useless."""
    key = get_settings().signing_key()
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).hexdigest()
