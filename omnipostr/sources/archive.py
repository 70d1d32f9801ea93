"""Archives (a .docx is a ZIP) are checked from their central directory before anything is
inflated: every member counts, wherever it sits; then each member is inflated once, a chunk
at a time, with its checksum verified, so a directory that lies about sizes is caught with
memory bounded."""

from __future__ import annotations

import io
import zipfile
import zlib

from omnipostr.sources.errors import ExtractError

MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # all members together
MAX_ARCHIVE_MEMBERS = 2000
MAX_RATIO = 100  # uncompressed / compressed, for a member over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024


def check_archive(data: bytes, what: str = "This Word document") -> None:
    """Refuse an archive that would unpack to too much, before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractError(f"{what} is damaged and could not be read.") from exc
    too_big = ExtractError(f"{what} is too large to read once unpacked.")
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ExtractError(f"{what} has too many parts to read ({len(members):,}).")
    total = 0
    for m in members:
        total += m.file_size
        if total > MAX_UNPACKED_BYTES:
            raise too_big
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise too_big
    # Then every member is inflated once, a chunk at a time, and its checksum verified: a
    # member whose data inflates past what the directory declares fails here, with memory
    # bounded by the chunk, before any reader takes it whole.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for m in members:
                with zf.open(m) as f:
                    while f.read(64 * 1024):
                        pass
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError) as exc:
        raise ExtractError(f"{what} is damaged and could not be read.") from exc
