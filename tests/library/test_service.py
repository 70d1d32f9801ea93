from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.library import service as library
from omnipostr.repurpose import platforms, runner, service
from omnipostr.repurpose.engines.offline import OfflineEngine
from omnipostr.repurpose.models import Generation, SearchTerm, Source, Variant, VariantRevision
from omnipostr.repurpose.service import ComposeError, NotFound
from omnipostr.repurpose.variant import Variant as Post
from tests.repurpose.helpers import member, request, start


async def generated(actor, text_: str | None = None, platforms=("x", "linkedin"), title: str = ""):
    kw = {"platforms": list(platforms), "title": title}
    gen = start(actor, request(text=text_, **kw) if text_ else request(**kw))
    await runner.run(gen.id, engine=OfflineEngine())
    return gen


def ids(page) -> list[int]:
    return [i.id for i in page.items]


async def test_list_is_newest_first_with_keyset_pages():
    ada = member()
    made = []
    for i in range(5):
        made.append((await generated(ada, title=f"Article number {i}")).id)
        clock.advance(timedelta(minutes=1))
    p1 = db.in_session(library.list_generations, ada, limit=2)
    assert ids(p1) == made[::-1][:2] and p1.next_cursor
    p2 = db.in_session(library.list_generations, ada, limit=2, cursor=p1.next_cursor)
    p3 = db.in_session(library.list_generations, ada, limit=2, cursor=p2.next_cursor)
    assert ids(p2) == made[::-1][2:4] and ids(p3) == made[::-1][4:] and p3.next_cursor == ""
    item = p1.items[0]
    assert item.title == "Article number 4" and item.variants == 2 and item.status == "done" and item.source_kept


async def test_search_finds_words_of_titles_and_posts_through_the_blind_index():
    ada = member()
    g1 = await generated(ada, "Solar panels on every school roof would cut energy bills by a third. Schools can start now.")
    g2 = await generated(ada, "Remote teams need written rituals. A weekly memo replaces three meetings for most teams.")
    found = lambda q: ids(db.in_session(library.list_generations, ada, query=q))  # noqa: E731
    assert found("solar") == [g1.id]
    assert found("SCHOOL roof") == [g1.id]
    assert found("memo") == [g2.id]
    assert found("solar memo") == []
    assert found("nothing-like-this") == []
    with db.engine().connect() as c:
        stored = str(c.execute(text("SELECT term FROM search_terms")).all())
    assert "solar" not in stored and "memo" not in stored


async def test_search_results_come_newest_first_a_page_at_a_time_with_the_filters():
    ada = member()
    made = []
    for i in range(5):
        extra = " Lighthouses guide them home." if i in (1, 3) else ""
        made.append(await generated(ada, f"Harbour pilots board ships at dawn, report {i}.{extra}",
                                    platforms=["x"] if i % 2 else ["linkedin"], title=f"Harbour {i}"))
        clock.advance(timedelta(days=1))
    newest = [g.id for g in made[::-1]]
    pages, cursor = [], ""
    while True:  # a common word, two at a time
        page = db.in_session(library.list_generations, ada, query="harbour", limit=2, cursor=cursor)
        pages.append(ids(page))
        if not (cursor := page.next_cursor):
            break
    assert pages == [newest[:2], newest[2:4], newest[4:]]
    # two words: the rarer one is read from the index, the other checked per generation
    assert ids(db.in_session(library.list_generations, ada, query="lighthouses harbour")) == [made[3].id, made[1].id]
    first = db.in_session(library.list_generations, ada, query="harbour lighthouses", limit=1)
    assert ids(first) == [made[3].id]
    assert ids(db.in_session(library.list_generations, ada, query="harbour lighthouses", cursor=first.next_cursor)) == [made[1].id]
    # with the platform, the status and the date
    assert ids(db.in_session(library.list_generations, ada, query="harbour", platform="x")) == [made[3].id, made[1].id]
    with db.session() as s:
        g = s.get(Generation, made[2].id)
        g.status = "partial"
        s.add(g)
    assert ids(db.in_session(library.list_generations, ada, query="harbour", status="partial")) == [made[2].id]
    since = made[3].created_at - timedelta(seconds=1)
    assert ids(db.in_session(library.list_generations, ada, query="harbour", since=since)) == newest[:2]
    assert ids(db.in_session(library.list_generations, ada, query="harbour", until=since)) == newest[2:]
    # a cursor that is not one of ours starts at the top rather than failing
    assert ids(db.in_session(library.list_generations, ada, query="harbour", limit=1, cursor="1.5:7")) == newest[:1]


async def test_search_finds_cjk_words_inside_sentences_written_without_spaces():
    ada = member()
    ja = await generated(ada, "東京は晴れです。明日は大阪で雨が降るでしょう。週末には桜が満開になると予想されています。")
    zh = await generated(ada, "我每天读书二十分钟。一年之后，我读完了二十七本书。小目标更容易坚持。")
    found = lambda q: ids(db.in_session(library.list_generations, ada, query=q))  # noqa: E731
    assert found("東京") == [ja.id]
    assert found("大阪 桜") == [ja.id]
    assert found("桜") == [ja.id]  # one character on its own
    assert found("读书") == [zh.id]
    assert found("京都") == []


async def test_filters_by_platform_status_and_date():
    ada = member()
    g_x = await generated(ada, platforms=["x"])
    clock.advance(timedelta(days=10))
    g_nl = await generated(ada, platforms=["newsletter"])
    with db.session() as s:
        g = s.get(Generation, g_x.id)
        g.status = "partial"
        s.add(g)
    assert ids(db.in_session(library.list_generations, ada, platform="newsletter")) == [g_nl.id]
    assert ids(db.in_session(library.list_generations, ada, status="partial")) == [g_x.id]
    assert ids(db.in_session(library.list_generations, ada, since=clock.now() - timedelta(days=1))) == [g_nl.id]


@pytest.mark.promise("AI-3")
async def test_an_edit_is_stored_with_history_checked_and_searchable():
    ada = member()
    gen = await generated(ada, platforms=["bluesky"])
    view = db.in_session(library.get_generation, ada, gen.id)
    v = view.variants[0]
    new = "Schools with solar roofs spend a third less on energy. 🌞"
    edited = db.in_session(library.edit_variant, ada, v.id, [new], {})
    assert edited.post.posts == [new] and edited.edited and edited.version == v.version + 1
    assert db.in_session(library.get_variant, ada, v.id).post.posts == [new]
    revs = db.in_session(library.revisions, ada, v.id)
    assert [r.kind for r in revs] == ["edit", "generated"]
    # an edit with a claim the source does not hold is flagged
    flagged = db.in_session(library.edit_variant, ada, v.id, ["Our 97% success rate, says Dr. Watson."], {})
    assert {f["kind"] for f in flagged.flags} >= {"number"}
    # an edit over the limit is saved but shows the problem
    long = db.in_session(library.edit_variant, ada, v.id, ["word " * 100], {})
    assert [p["code"] for p in long.problems if p["severity"] == "error"] == ["too_long"]
    restored = db.in_session(library.restore_revision, ada, v.id, edited.version)
    assert restored.post.posts == [new]


async def test_an_x_thread_is_stored_without_numbers_and_they_follow_posts_added_or_removed():
    ada = member()
    gen = await generated(ada, platforms=["x"])
    v = db.in_session(library.get_generation, ada, gen.id).variants[0]
    posts = v.post.posts
    assert len(posts) >= 3 and not any(platforms.numbering(p) for p in posts)  # drawn, not typed
    # the first post removed, a post added at the end (its number typed by hand, as people
    # do): nothing typed is kept, and the numbers that go out follow the posts
    n = len(posts)
    edited = db.in_session(library.edit_variant, ada, v.id, [*posts[1:], f"Schools save money. {n}/{n}"], {})
    assert edited.post.posts == [*posts[1:], "Schools save money."]
    sent = platforms.outgoing("x", edited.post.posts)
    assert [p.rsplit(" ", 1)[1] for p in sent] == [f"{k}/{n}" for k in range(1, n + 1)]
    assert not edited.problems or all(p["severity"] == "tip" for p in edited.problems)
    # a post stored with typed numbers (before the app drew them) reads without them
    with db.session() as s:
        row = s.get(Variant, v.id)
        row.body = service.body_of(Post(platform="x", posts=sent, fields={}))
        s.add(row)
        s.commit()
    assert db.in_session(library.get_generation, ada, gen.id).variants[0].post.posts == edited.post.posts


async def test_deletes_variant_generation_and_original_text():
    ada = member()
    gen = await generated(ada, platforms=["x", "linkedin", "threads"])
    view = db.in_session(library.get_generation, ada, gen.id)
    db.in_session(library.delete_variant, ada, view.variants[0].id)
    assert len(db.in_session(library.get_generation, ada, gen.id).variants) == 2
    with db.session() as s:
        assert s.exec(select(VariantRevision).where(VariantRevision.variant_id == view.variants[0].id)).all() == []

    db.in_session(library.delete_source_text, ada, gen.id)
    view = db.in_session(library.get_generation, ada, gen.id)
    assert view.source_text is None and len(view.variants) == 2
    with pytest.raises(ComposeError):
        db.in_session(library.reuse_source, ada, gen.id)

    db.in_session(library.delete_generation, ada, gen.id)
    with db.session() as s:
        assert s.exec(select(Generation)).all() == [] and s.exec(select(Variant)).all() == []
        assert s.exec(select(Source)).all() == [] and s.exec(select(SearchTerm)).all() == []


async def test_reuse_returns_the_source_and_choices():
    ada = member()
    gen = start(ada, request(platforms=["threads", "x"], tone="witty"))
    r = db.in_session(library.reuse_source, ada, gen.id)
    assert r.text.startswith("Why small teams") and r.platforms == ["threads", "x"] and r.options["tone"] == "witty"


async def test_another_workspace_cannot_see_or_touch_anything():
    ada = member()
    eve = member("eve@example.com", "Eve's team")
    gen = await generated(ada)
    vid = db.in_session(library.get_generation, ada, gen.id).variants[0].id
    assert ids(db.in_session(library.list_generations, eve)) == []
    assert ids(db.in_session(library.list_generations, eve, query="teams")) == []
    for call in (
        lambda s: library.get_generation(s, eve, gen.id),
        lambda s: library.get_variant(s, eve, vid),
        lambda s: library.edit_variant(s, eve, vid, ["mine now"], {}),
        lambda s: library.delete_variant(s, eve, vid),
        lambda s: library.delete_generation(s, eve, gen.id),
        lambda s: library.delete_source_text(s, eve, gen.id),
        lambda s: library.reuse_source(s, eve, gen.id),
        lambda s: library.revisions(s, eve, vid),
    ):
        with pytest.raises(NotFound):
            db.in_session(call)
    assert len(db.in_session(library.get_generation, ada, gen.id).variants) == 2


async def test_every_take_and_edit_is_a_version_and_undo_goes_back_one():
    ada = member()
    gen = await generated(ada, platforms=["bluesky"])
    bsky = db.in_session(library.variant_views, ada, gen.id)["bluesky"]
    first = bsky.post.posts
    edited = db.in_session(library.edit_variant, ada, bsky.id, ["My own words about the four-day week."], {})
    assert edited.edited and edited.version == 2
    await runner.run(gen.id, engine=OfflineEngine())  # nothing left to write: no new version
    assert db.in_session(library.get_variant, ada, bsky.id).version == 2
    back = db.in_session(library.undo, ada, bsky.id)
    assert back.post.posts == first and back.version == 3 and not back.edited
    again = db.in_session(library.undo, ada, bsky.id)  # undo of the undo: the edit again
    assert again.post.posts == ["My own words about the four-day week."] and again.edited
    found = db.in_session(library.versions, ada, bsky.id)
    assert [(v.version, v.label, v.current) for v in found] == [
        (4, "Restored", True), (3, "Restored", False), (2, "Edited", False), (1, "Generated", False),
    ]
    restored = db.in_session(library.restore_revision, ada, bsky.id, 1)
    assert restored.post.posts == first
    eve = member("eve@example.com", team="Elsewhere")
    with pytest.raises(NotFound):
        db.in_session(library.versions, eve, bsky.id)
    with pytest.raises(NotFound):
        db.in_session(library.undo, eve, bsky.id)
