"""One person's copy of their data (RGT-1, GDPR-3): a ZIP with one JSON document, valid
against the published schema (``export.schema.json``, served at
``/schemas/privacy-export-1.json``), and a CSV file per table, grouped by category.

Everything comes from the data inventory: each capability's declared holdings give their
rows for this user only, without password hashes, token hashes or keys.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.accounts.models import Membership, User, Workspace
from omnipostr.personal_data import CATEGORIES, plain
from omnipostr.privacy import inventory

SCHEMA = "https://omnipostr.com/schemas/privacy-export/1"  # an identifier, never fetched
SCHEMA_VERSION = 1
REGIONS = {"us": "United States", "eu": "European Union"}


def regions(s: Session, user_id: int) -> list[dict]:
    """Where each of the user's workspaces keeps its data (XFR-1)."""
    rows = s.exec(
        select(Workspace).join(Membership, col(Membership.workspace_id) == Workspace.id)
        .where(Membership.user_id == user_id).order_by(col(Workspace.id))
    ).all()
    return [{"workspace_id": w.id, "workspace": w.name, "region": w.data_region,
             "region_name": REGIONS.get(w.data_region, w.data_region)} for w in rows]


def document(s: Session, user: User) -> dict:
    return {
        "$schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "exported_at": plain(clock.now()),
        "user_id": user.id,
        "regions": regions(s, user.id),
        "processors": [{"name": n, "purpose": p} for n, p in inventory.processors()],
        "holdings": [
            {
                "table": h.table,
                "category": h.category,
                "category_name": CATEGORIES[h.category],
                "what": h.what,
                "purpose": h.purpose,
                "basis": h.basis,
                "retention": inventory.retention(h.retention),
                "rows": h.rows(s, user),
            }
            for h in inventory.holdings()
        ],
    }


def _csv(rows: list[dict]) -> str:
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else ("" if v is None else v)
                    for v in (r.get(c) for c in columns)])
    return buf.getvalue()


README = """Your OmniPostr data, as of {when} (UTC).

omnipostr-data.json  everything, in one JSON document; its schema is at
                     {base}/schemas/privacy-export-1.json
<category>/<table>.csv  the same rows, a spreadsheet per table (UTF-8)

Each part says what it is, why we keep it, on what legal basis and for how long.
"""


def archive(s: Session, user: User, base_url: str) -> bytes:
    doc = document(s, user)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", README.format(when=doc["exported_at"], base=base_url.rstrip("/")))
        z.writestr("omnipostr-data.json", json.dumps(doc, ensure_ascii=False, indent=2))
        for h in doc["holdings"]:
            if h["rows"]:
                z.writestr(f"{h['category']}/{h['table']}.csv", "\ufeff" + _csv(h["rows"]))
    return buf.getvalue()
