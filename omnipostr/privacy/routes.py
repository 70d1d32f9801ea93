"""Downloads of the privacy center, for the signed-in user (the session cookie).

- ``GET /privacy/exports/{id}.zip``: a copy of one's data (``export.py``), while it lasts.
- ``GET /schemas/privacy-export-1.json``: the schema of its JSON document.
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.routes import cookie_name
from omnipostr.privacy import service

SCHEMA_FILE = Path(__file__).with_name("export.schema.json")


async def download_export(request: Request) -> Response:
    token = request.cookies.get(cookie_name())
    export_id = request.path_params["export_id"]

    def work(s):
        who = accounts.resolve_session(s, token)
        if who is None:
            return None
        return service.download(s, who.user.id, export_id) or False

    found = await run_in_threadpool(db.in_session, work)
    if found is None:
        return PlainTextResponse("Sign in to download your data.", status_code=401)
    if found is False:
        return PlainTextResponse("There is no such download, or its time is up. Ask for a new one.", status_code=404)
    return Response(
        found,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="omnipostr-data.zip"', "Cache-Control": "no-store"},
    )


async def schema(request: Request) -> Response:
    return Response(SCHEMA_FILE.read_bytes(), media_type="application/schema+json")


routes = [
    Route("/privacy/exports/{export_id:int}.zip", download_export, methods=["GET"]),
    Route("/schemas/privacy-export-1.json", schema, methods=["GET"]),
]
