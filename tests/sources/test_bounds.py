"""Uploads are bounded before they are read: archives (a .docx is a ZIP) by their central
directory, every member counted wherever it sits; PDFs stream by stream. Each bomb is read in
a fresh process whose peak memory is measured: it is refused with a clear message, having
grown by less than 100 MB although it would unpack to hundreds."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from omnipostr.sources import archive
from tests.fixtures.source_files import article_docx

MB = 1024 * 1024
PROBE = """
import json, resource, sys
from omnipostr import sources as extract
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    got = extract.extract_file(sys.argv[2], data, max_bytes=10 * 1024 * 1024)
    message = "read %d words" % got.words
except extract.ExtractError as e:
    message = e.message
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"message": message, "grew_mb": (after - before) / 1024}))
"""


def _read_in_fresh_process(tmp_path: Path, name: str, data: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), name], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _docx_with(extra: list[tuple[str, int]], *, chunk: bytes = b"\0" * MB) -> bytes:
    """The test article as a .docx plus members of the given names and sizes (zeros,
    deflated: about a thousand to one), written a chunk at a time. A name the document
    already has replaces that part."""
    src = zipfile.ZipFile(io.BytesIO(article_docx()))
    buf = io.BytesIO()
    replaced = {name for name, _ in extra}
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for item in src.infolist():
            if item.filename not in replaced:
                zf.writestr(item, src.read(item.filename))
        for name, size in extra:
            with zf.open(name, "w", force_zip64=size > 2**31) as f:
                left = size
                while left > 0:
                    piece = chunk[: min(left, len(chunk))]
                    f.write(piece)
                    left -= len(piece)
    return buf.getvalue()


def test_a_real_word_document_still_reads(tmp_path):
    got = _read_in_fresh_process(tmp_path, "article.docx", article_docx())
    assert got["message"].startswith("read ")


@pytest.mark.parametrize(
    "case, members",
    [
        ("400 MB member outside word/", [("docProps/custom.xml", 400 * MB)]),
        ("many small members", [(f"customXml/item{i}.xml", 100 * 1024) for i in range(2500)]),
        ("members adding up", [(f"word/media/pad{i}.bin", 900 * 1024) for i in range(90)]),
        ("a deep ratio in a small member", [("word/fontTable2.xml", 3 * MB)]),
    ],
)
def test_zip_bombs_are_refused_before_they_are_inflated(tmp_path, case, members):
    data = _docx_with(members)
    assert len(data) < 10 * MB  # within the upload limit
    got = _read_in_fresh_process(tmp_path, "bomb.docx", data)
    assert got["message"] == "This Word document is too large to read once unpacked." or got["message"].startswith(
        "This Word document has too many parts to read"
    ), got
    assert got["grew_mb"] < 100, got


def test_a_lying_central_directory_inflates_no_more_than_it_declares(tmp_path):
    """A part the document reads (its styles) whose directory entry claims 1 KB but whose data
    inflates to 300 MB: reading stops at the declared size, the checksum fails, and the file
    is called damaged."""
    data = bytearray(_docx_with([("word/styles.xml", 300 * MB)]))
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = zf.getinfo("word/styles.xml")
    # patch the declared size in the central directory and in the local header
    for sig, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        pos = 0
        name = info.filename.encode()
        while (pos := data.find(sig, pos)) != -1:
            name_len = int.from_bytes(data[pos + (28 if sig == b"PK\x01\x02" else 26) : pos + (30 if sig == b"PK\x01\x02" else 28)], "little")
            start = pos + (46 if sig == b"PK\x01\x02" else 30)
            if bytes(data[start : start + name_len]) == name:
                data[pos + size_at : pos + size_at + 4] = (1024).to_bytes(4, "little")
            pos += 4
    got = _read_in_fresh_process(tmp_path, "liar.docx", bytes(data))
    assert got["message"] == "This Word document is damaged and could not be read.", got
    assert got["grew_mb"] < 100, got


def _pdf_with_stream(inflated: int) -> bytes:
    """One page whose content stream inflates to ``inflated`` bytes (mostly spaces)."""
    co = zlib.compressobj(9)
    head = b"BT /F1 11 Tf 72 740 Td (A page that grows.) Tj ET\n"
    parts = [co.compress(head)]
    block = b" " * MB
    for _ in range(inflated // MB):
        parts.append(co.compress(block))
    parts.append(co.flush())
    stream = b"".join(parts)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_a_pdf_stream_bomb_is_refused_with_memory_bounded(tmp_path):
    data = _pdf_with_stream(400 * MB)
    assert len(data) < 2 * MB
    got = _read_in_fresh_process(tmp_path, "bomb.pdf", data)
    assert got["message"] == "This PDF is too large to read once unpacked.", got
    assert got["grew_mb"] < 100, got


def test_a_pdf_with_a_modest_stream_still_reads(tmp_path):
    got = _read_in_fresh_process(tmp_path, "fine.pdf", _pdf_with_stream(2 * MB))
    assert got["message"] == "read 4 words", got


def test_the_archive_check_reads_only_the_directory():
    with pytest.raises(archive.ExtractError, match="too large"):
        archive.check_archive(_docx_with([("docProps/huge.xml", 200 * MB)]))
    archive.check_archive(article_docx())  # a real document passes
