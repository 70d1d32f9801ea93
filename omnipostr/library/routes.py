"""Downloads of a generation's posts, for the signed-in member (the session cookie).

- ``GET /export/generations/{id}.{md|csv|json|zip}``: the posts as a file (``export.py``).
- ``GET /schemas/generation-export-1.json``: the JSON export's schema.
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
from omnipostr.library import export
from omnipostr.repurpose.service import NotFound

SCHEMA_FILE = Path(__file__).with_name("export.schema.json")


async def export_generation(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in export.FORMATS:
        return PlainTextResponse("Unknown format. Choose md, csv, json or zip.", status_code=404)
    token = request.cookies.get(cookie_name())
    generation_id = request.path_params["generation_id"]

    def work(s):
        who = accounts.resolve_session(s, token)
        if who is None or who.actor is None:
            return None
        return export.export_generation(s, who.actor, generation_id, fmt)

    try:
        found = await run_in_threadpool(db.in_session, work)
    except NotFound:
        found = False
    if found is None:
        return PlainTextResponse("Sign in to download your posts.", status_code=401)
    if found is False:
        return PlainTextResponse("There is no such generation in your workspace.", status_code=404)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"', "Cache-Control": "no-store"},
    )


async def schema(request: Request) -> Response:
    return Response(SCHEMA_FILE.read_bytes(), media_type="application/schema+json")


routes = [
    Route("/export/generations/{generation_id:int}.{fmt}", export_generation, methods=["GET"]),
    Route("/schemas/generation-export-1.json", schema, methods=["GET"]),
]
