"""Encryption at rest for every user-written column, blind indexes, and hashing of tokens.

``ContentText`` (text) and ``ContentJSON`` (a JSON value) are the column types for anything a
user wrote, had generated, or chose in words: sources, posts and their flags, the options of
a generation (audience, call to action, brand voice), brand voices, names, email addresses,
mail. They store Fernet tokens (AES-128-CBC + HMAC-SHA256) made with the newest key in
``Settings.fernet_keys()`` and read any of them, so a key can be rotated by putting a new one
first, re-encrypting and dropping the old one. Keys live outside the database (environment,
or key files in their own folder).

A value that must be found by equality (an email address at sign-in) also gets a blind index
(``blind_index``): a keyed hash, so the database can match it without holding it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
import zlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.sql import ClauseElement, operators
from sqlalchemy.types import TypeDecorator

from omnipostr.settings import get_settings


@functools.cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in get_settings().fernet_keys()])


def reset_keys() -> None:
    _fernet.cache_clear()


_PACKED = b"\xff"
"""Marks a compressed plaintext: no UTF-8 text starts with this byte."""
_PACK_FROM = 200


def encrypt(text: str) -> str:
    """Text encrypted with the content key. Longer text (sources, posts, their revisions) is
    compressed first when that makes it smaller, which about halves what prose takes on disk."""
    data = text.encode("utf-8")
    if len(data) >= _PACK_FROM and len(packed := zlib.compress(data, 6)) + 1 < len(data):
        data = _PACKED + packed
    return _fernet().encrypt(data).decode("ascii")


def decrypt(token: str) -> str:
    try:
        data = _fernet().decrypt(token.encode("ascii"))
    except InvalidToken as e:  # a key was dropped before the data was re-encrypted
        raise ValueError("content cannot be decrypted with the configured keys") from e
    if data[:1] == _PACKED:
        data = zlib.decompress(data[1:])
    return data.decode("utf-8")


def seal(data: bytes) -> bytes:
    """Bytes encrypted with the content key (e.g. a page's state kept in Redis)."""
    return _fernet().encrypt(data)


def unseal(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken as e:
        raise ValueError("sealed data cannot be decrypted with the configured keys") from e


def reencrypt(token: str) -> str:
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


_NOT_IN_SQL = {
    operators.eq, operators.ne, operators.lt, operators.le, operators.gt, operators.ge,
    operators.in_op, operators.not_in_op, operators.like_op, operators.ilike_op,
    operators.contains_op, operators.startswith_op, operators.endswith_op,
}


class _Opaque(Text.Comparator):
    """The database holds ciphertext (a new random one each write): comparing it in SQL would
    silently match nothing. Say so instead; find by a blind index."""

    def operate(self, op, *other, **kwargs):
        if op in _NOT_IN_SQL and not all(isinstance(o, ClauseElement) for o in other):
            raise TypeError("an encrypted column cannot be compared in SQL; use its blind index")
        return super().operate(op, *other, **kwargs)


class ContentText(TypeDecorator):
    """Text that is encrypted in the database and plain in Python."""

    impl = Text
    cache_ok = True
    comparator_factory = _Opaque

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)


class ContentJSON(ContentText):
    """A JSON value that is encrypted in the database and a dict or list in Python."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return super().process_bind_param(json.dumps(value, ensure_ascii=False, separators=(",", ":")), dialect)

    def process_result_value(self, value, dialect):
        text = super().process_result_value(value, dialect)
        return None if text is None else json.loads(text)


def blind_index(purpose: str, value: str) -> str:
    """A keyed hash of ``value`` for equality lookups: the same input gives the same index,
    and the index reveals nothing without the app's secret key."""
    key = get_settings().signing_key()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def email_index(email: str) -> str:
    """The blind index of an email address (case does not matter)."""
    return blind_index("email", (email or "").strip().lower())


# --- tokens -------------------------------------------------------------------------------


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token for sessions, links and keys."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """What the database keeps of a token: a keyed SHA-256, so a leaked table is useless."""
    key = get_settings().signing_key()
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).hexdigest()
