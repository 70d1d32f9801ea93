"""A generation's posts handed over as files: each format parses with a standard parser and
gives back every post's text exactly, and only to members of its workspace."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import httpx
import jsonschema
from markdown_it import MarkdownIt
from starlette.applications import Starlette

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.library import export, routes
from omnipostr.library import service as library
from omnipostr.repurpose import platforms, runner
from omnipostr.repurpose.cards import copy_text
from omnipostr.repurpose.engines.offline import OfflineEngine
from tests.repurpose.helpers import member, request, start

TRICKY = "Four days, \"not five\" 🚀🇯🇵\n\nLine two with ``` fences, a | pipe; and, commas\r\n# not a heading\n— done ✅"


async def made(actor):
    gen = start(actor, request(platforms=["x", "linkedin", "tiktok", "newsletter"]))
    await runner.run(gen.id, engine=OfflineEngine())
    views = db.in_session(library.variant_views, actor, gen.id)
    x = views["x"]
    db.in_session(library.edit_variant, actor, x.id, [*x.post.posts[:1], TRICKY], {})
    return db.in_session(library.get_generation, actor, gen.id)


def parts_of(view) -> dict[str, list[str]]:
    """Each platform's posts as they go out: an X thread's with the numbers the app adds."""
    return {v.platform: platforms.outgoing(v.platform, v.post.posts) for v in view.variants if v.post}


async def test_every_format_gives_back_each_post_exactly():
    ada = member()
    view = await made(ada)
    want = parts_of(view)
    assert want["x"][1].startswith(TRICKY.replace("\r\n", "\n"))  # one kind of line break is kept

    def get(fmt):
        return db.in_session(export.export_generation, ada, view.generation.id, fmt)

    # Markdown: a fenced block per post, read back by a CommonMark parser
    md = get("md")
    assert md.filename.endswith(".md") and md.media_type.startswith("text/markdown")
    tokens = MarkdownIt("commonmark").parse(md.content.decode("utf-8"))
    fenced = [t.content[:-1] for t in tokens if t.type == "fence"]  # the parser adds the last newline
    for v in view.variants:
        for value in v.post.fields.values():
            assert not value or value in fenced
    for posts in want.values():
        for p in posts:
            assert p in fenced
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0] == view.generation.title and {"X", "LinkedIn", "TikTok", "Newsletter"} <= set(headings)

    # CSV: a row per post, a thread's posts one per row
    rows = list(csv.DictReader(io.StringIO(get("csv").content.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == export.CSV_COLUMNS
    for platform, posts in want.items():
        mine = [r for r in rows if r["platform"] == platform and not r["field"]]
        assert [r["text"] for r in mine] == posts
        assert [int(r["part"]) for r in mine] == list(range(1, len(posts) + 1))
    assert any(r["field"] for r in rows if r["platform"] == "tiktok")

    # JSON: valid against the published schema
    doc = json.loads(get("json").content)
    jsonschema.validate(doc, json.loads(routes.SCHEMA_FILE.read_text()))
    assert {p["platform"]: p["parts"] for p in doc["posts"]} == want
    assert next(p for p in doc["posts"] if p["platform"] == "x")["edited"] is True

    # plain text: a file per platform, what Copy gives
    with zipfile.ZipFile(io.BytesIO(get("zip").content)) as z:
        files = {n: z.read(n).decode("utf-8") for n in z.namelist()}
    assert files == {f"{v.platform}.txt": copy_text(v.post) for v in view.variants if v.post}


async def test_a_download_needs_a_member_of_the_workspace():
    ada = member()
    view = await made(ada)
    eve = member("eve@example.com", team="Elsewhere")
    gid = view.generation.id
    app = Starlette(routes=routes.routes)

    def cookie_for(actor):
        with db.session() as s:
            user = s.get(accounts.User, actor.user_id)
            token, _ = accounts.start_session(s, user, accounts.ClientInfo())
        return {"omnipostr_session": token}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:3000") as c:
        r = await c.get(f"/export/generations/{gid}.json", cookies=cookie_for(ada))
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.headers["content-disposition"].startswith('attachment; filename="omnipostr-')
        assert r.headers["cache-control"] == "no-store"
        assert json.loads(r.content)["generation"]["id"] == gid
        assert (await c.get(f"/export/generations/{gid}.json", cookies=cookie_for(eve))).status_code == 404
        assert (await c.get(f"/export/generations/{gid}.json")).status_code == 401
        assert (await c.get(f"/export/generations/{gid}.exe", cookies=cookie_for(ada))).status_code == 404
        schema = await c.get("/schemas/generation-export-1.json")
        assert schema.status_code == 200 and json.loads(schema.content)["$id"] == export.SCHEMA
