"""Every field a person wrote is ciphertext in the database: names, addresses, teams, brand
voices, articles and their titles, file names and links, the options of a generation, posts,
their edits and flags, invitations, mail, and what a visitor asked for. The raw rows (read
past the models, as a thief with a copy of the database would) hold none of the markers
typed into them; the models read every one back."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.library import service as library
from omnipostr.repurpose import runner, service
from omnipostr.repurpose.engines.offline import OfflineEngine
from tests.accounts.helpers import PASSWORD, actor_for, sign_up
from tests.repurpose.helpers import ARTICLE, request, start

M = "Xylophrax"  # every marker starts with this; each field gets its own


def _markers() -> dict[str, str]:
    return {f: f"{M}{f.title().replace('_', '')}" for f in (
        "name", "team", "voice", "voice_description", "voice_sample", "title", "article", "filename", "url",
        "audience", "cta", "link", "edit", "invite", "new_email", "visitor", "visitor_team",
    )}


def _raw_rows() -> str:
    """Every value of every table, as stored (no type decoding)."""
    import omnipostr.tables  # noqa: F401

    out = []
    with db.engine().connect() as c:
        for table in SQLModel.metadata.sorted_tables:
            for row in c.execute(text(f'SELECT * FROM "{table.name}"')):
                out.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(out)


@pytest.mark.promise("SEC-2")
async def test_no_user_written_marker_is_stored_in_the_clear():
    m = _markers()
    user = sign_up(email=f"{m['name'].lower()}@example.com", name=m["name"], team=m["team"])
    ada = actor_for(user.id)
    voice = db.in_session(service.save_voice, ada, name=m["voice"], description=m["voice_description"], samples=[m["voice_sample"]])
    article = f"{m['article']} is the word we use for this. The numbers were 12% and 40 hours.\n\n" + ARTICLE
    gen = start(ada, request(
        text=article, title=m["title"], filename=f"{m['filename']}.docx", url=f"https://example.com/{m['url']}",
        kind="file", audience=m["audience"], call_to_action=m["cta"], link=f"https://example.com/{m['link']}",
        brand_voice_id=voice.id, platforms=["x", "linkedin", "bluesky"],
    ))
    await runner.run(gen.id, engine=OfflineEngine())
    view = db.in_session(library.get_generation, ada, gen.id)
    x = next(v for v in view.variants if v.platform == "x")
    # an edit that adds a claim the article does not make: flagged, and the flag quotes it
    db.in_session(library.edit_variant, ada, x.id, [f"{m['edit']} says 97% of teams agree."], {})
    with db.session() as s:
        accounts.invite_member(s, ada, f"{m['invite'].lower()}@example.com")
        accounts.request_email_change(s, ada, PASSWORD, f"{m['new_email'].lower()}@example.com")
        accounts.request_sign_up(s, accounts.SignUpForm(
            name=m["visitor"], email=f"{m['visitor'].lower()}@example.com", password=PASSWORD, team=m["visitor_team"],
            age_confirmed=True, policy_accepted=True,
        ), "198.51.100.9")
    edited = db.in_session(library.get_variant, ada, x.id)
    assert edited.flags and any("97%" in f["value"] for f in edited.flags)

    raw = _raw_rows()
    assert len(raw) > 5000
    found = sorted({field for field, marker in m.items() if marker.lower() in raw.lower()})
    assert found == [], f"stored in the clear: {found}"
    assert M.lower() not in raw.lower()
    assert "97%" not in raw and "12%" not in raw

    # and everything reads back through the models
    gen_view = db.in_session(library.get_generation, ada, gen.id)
    assert gen_view.source_text == article.strip() and gen_view.generation.title == m["title"]
    assert gen_view.generation.options["audience"] == m["audience"]
    assert gen_view.generation.options["brand_voice"]["samples"] == [m["voice_sample"]]
    assert db.in_session(accounts.current_user, ada).name == m["name"]


def test_an_encrypted_column_cannot_be_compared_in_sql_by_mistake():
    from sqlmodel import select

    from omnipostr.accounts.models import User

    with pytest.raises(TypeError, match="blind index"):
        select(User).where(User.email == "ada@example.com")


@pytest.mark.promise("SEC-2")
def test_long_text_is_compressed_before_it_is_encrypted_and_older_tokens_still_read():
    from cryptography.fernet import Fernet

    from omnipostr import crypto
    from omnipostr.settings import get_settings

    prose = ARTICLE * 3
    token = crypto.encrypt(prose)
    older = crypto._fernet().encrypt(prose.encode())  # as written before compression
    assert crypto.decrypt(token) == prose and crypto.decrypt(older.decode()) == prose
    assert len(token) < len(older) * 0.7
    label, _, fernet_token = token.partition(".")  # "<key id>.<Fernet token>"
    assert label == crypto.key_id(get_settings().fernet_keys()[0])
    assert Fernet(get_settings().fernet_keys()[0].encode()).decrypt(fernet_token.encode())[:1] == b"\xff"
    for short in ("", "Hi", "ÿ" * 50, "\x00z"):  # short text is stored as it is
        assert crypto.decrypt(crypto.encrypt(short)) == short
    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(300))  # barely compressible
    assert crypto.decrypt(crypto.encrypt(noise)) == noise
