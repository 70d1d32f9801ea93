"""Encryption at rest for every user-written column, blind indexes, and hashing of tokens.

``ContentText`` (text) and ``ContentJSON`` (a JSON value) are the column types for anything a
user wrote, had generated, or chose in words: sources, posts and their flags, the options of
a generation (audience, call to action, brand voice), brand voices, names, email addresses,
mail. They store Fernet tokens (AES-128-CBC + HMAC-SHA256) made with the newest key in
``Settings.fernet_keys()`` and read any of them, so a key can be rotated by putting a new one
first, re-encrypting (``python -m omnipostr keys rotate``) and dropping the old one. Keys live
outside the database (environment, or key files in their own folder).

Each token is labelled with the id of its key: ``<key id>.<Fernet token>``, the id being 8 hex
characters of a hash of the key (it tells nothing about the key). So a value is opened with its
own key, the database can count and select values by key, and a value under a key that is no
longer configured fails with an error naming that key. Tokens written before labels existed
are found by trying each key's HMAC.

A value that must be found by equality (an email address at sign-in) also gets a blind index
(``blind_index``): a keyed hash, so the database can match it without holding it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import hmac
import json
import secrets
import zlib
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.sql import ClauseElement, operators
from sqlalchemy.types import TypeDecorator

from omnipostr.settings import get_settings


def key_id(key: str) -> str:
    """A content key's public name: 8 hex characters of a hash of it."""
    return hashlib.sha256(b"omnipostr content key id:" + key.strip().encode()).hexdigest()[:8]


class UnknownKeyError(ValueError):
    """A value was encrypted under a key that is not configured (``key_id``; ``None`` for a
    value written before tokens were labelled). Nothing is returned in its place."""

    def __init__(self, key_id: str | None, configured: list[str]) -> None:
        self.key_id = key_id
        have = ", ".join(configured)
        if key_id:
            msg = (f"this value was encrypted under key {key_id}, which is not configured (configured: {have}); "
                   "put that key back in the keys folder or OMNIPOSTR_ENCRYPTION_KEYS")
        else:
            msg = f"this value was encrypted under none of the configured keys ({have})"
        super().__init__(msg)


@dataclasses.dataclass(frozen=True)
class _Keyring:
    ids: tuple[str, ...]  # newest first
    fernets: dict[str, Fernet]
    signing: dict[str, bytes]  # each key's HMAC half, to find the key of an unlabelled token
    multi: MultiFernet


@functools.cache
def _keyring() -> _Keyring:
    keys = get_settings().fernet_keys()
    if not keys:
        raise RuntimeError("no content key is configured")
    ids = tuple(dict.fromkeys(key_id(k) for k in keys))
    fernets = {key_id(k): Fernet(k.encode()) for k in keys}
    signing = {key_id(k): base64.urlsafe_b64decode(k.encode())[:16] for k in keys}
    return _Keyring(ids, fernets, signing, MultiFernet([Fernet(k.encode()) for k in keys]))


def _fernet() -> MultiFernet:
    return _keyring().multi


def reset_keys() -> None:
    _keyring.cache_clear()


def key_ids() -> list[str]:
    """The ids of the configured content keys, newest first."""
    return list(_keyring().ids)


def newest_key_id() -> str:
    return _keyring().ids[0]


def add_key() -> tuple[str, Path]:
    """Create a new content key file in the keys folder, numbered after the others, which makes
    it the newest key: this process encrypts with it from now on (others once restarted).
    Returns its id and file. Keys given in ``OMNIPOSTR_ENCRYPTION_KEYS`` are not files: then
    this raises, and a new key goes first in that variable."""
    from omnipostr.settings import add_content_key_file

    cfg = get_settings()
    if cfg.encryption_keys and cfg.encryption_keys.get_secret_value():
        raise RuntimeError("the content keys come from OMNIPOSTR_ENCRYPTION_KEYS: put a new key first in it")
    cfg.fernet_keys()  # the first key exists (or an older install's is moved in) before another
    path = add_content_key_file(cfg.keys_dir)
    reset_keys()
    return key_id(path.read_text()), path


_LABEL = 8  # hex characters of a key id, then "." (never in a Fernet token's base64)


def label_of(token: str | bytes) -> str | None:
    """The key id a token is labelled with, ``None`` for an unlabelled (older) token."""
    head = token[: _LABEL + 1]
    if isinstance(head, bytes):
        head = head.decode("ascii", "replace")
    return head[:_LABEL] if len(head) == _LABEL + 1 and head[-1] == "." else None


def key_of(token: str | bytes) -> str | None:
    """The id of the key a token was encrypted under: its label, or, for an unlabelled token,
    the configured key whose HMAC it carries (``None`` when none does)."""
    if (kid := label_of(token)) is not None:
        return kid
    raw = token.encode("ascii") if isinstance(token, str) else token
    try:
        data = base64.urlsafe_b64decode(raw)
    except (binascii.Error, ValueError):
        return None
    if len(data) < 57:  # version, time, IV, one block, HMAC
        return None
    for kid, signing in _keyring().signing.items():
        if hmac.compare_digest(hmac.new(signing, data[:-32], hashlib.sha256).digest(), data[-32:]):
            return kid
    return None


def _close(data: bytes) -> bytes:
    ring = _keyring()
    kid = ring.ids[0]
    return kid.encode("ascii") + b"." + ring.fernets[kid].encrypt(data)


def _open(token: bytes) -> bytes:
    kid = label_of(token)
    ring = _keyring()
    if kid is None:
        try:
            return ring.multi.decrypt(token)
        except InvalidToken:
            raise UnknownKeyError(None, list(ring.ids)) from None
    if kid not in ring.fernets:
        reset_keys()  # a key file may have been added since this process read them
        ring = _keyring()
        if kid not in ring.fernets:
            raise UnknownKeyError(kid, list(ring.ids))
    try:
        return ring.fernets[kid].decrypt(token[_LABEL + 1 :])
    except InvalidToken:
        raise ValueError(f"a value under key {kid} failed its integrity check (altered or cut short)") from None


_PACKED = b"\xff"
"""Marks a compressed plaintext: no UTF-8 text starts with this byte."""
_PACK_FROM = 200


def encrypt(text: str) -> str:
    """Text encrypted with the newest content key. Longer text (sources, posts, their revisions)
    is compressed first when that makes it smaller, which about halves what prose takes on disk."""
    data = text.encode("utf-8")
    if len(data) >= _PACK_FROM and len(packed := zlib.compress(data, 6)) + 1 < len(data):
        data = _PACKED + packed
    return _close(data).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token; raises (``UnknownKeyError`` naming the key when its key is not
    configured), never returns anything in its place."""
    data = _open(token.encode("ascii"))
    if data[:1] == _PACKED:
        data = zlib.decompress(data[1:])
    return data.decode("utf-8")


def seal(data: bytes) -> bytes:
    """Bytes encrypted with the content key (e.g. a page's state kept in Redis)."""
    return _close(data)


def unseal(token: bytes) -> bytes:
    return _open(token)


def reencrypt(token: str | bytes) -> str | bytes:
    """The same value (text or sealed bytes) encrypted again under the newest key."""
    if isinstance(token, str):
        return _close(_open(token.encode("ascii"))).decode("ascii")
    return _close(_open(bytes(token)))


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
