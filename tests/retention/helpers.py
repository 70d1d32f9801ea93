"""Shared set-up for retention tests: content of a member, an admin, raw rows, the days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts.models import User
from omnipostr.repurpose import runner
from omnipostr.repurpose.engines.offline import OfflineEngine
from omnipostr.repurpose.models import Generation, Source
from tests.accounts.helpers import sign_up
from tests.repurpose.helpers import ARTICLE, request, start

SECRET = "Quillfeather harbour ledger"
"""Words of an article that appear nowhere else, to look for in the raw database."""
TEXT = f"{SECRET}: why small teams should publish more.\n\n{ARTICLE}"


def days(n: float) -> None:
    clock.advance(timedelta(days=n))


async def generated(actor, title: str = "Small teams", platforms=("x", "linkedin")) -> Generation:
    gen = start(actor, request(text=TEXT, platforms=list(platforms), title=title))
    await runner.run(gen.id, engine=OfflineEngine())
    return gen


def admin(email: str = "dpo@example.com") -> int:
    user = sign_up(email=email, name="Dana Admin", team="OmniPostr staff")
    with db.session() as s:
        row = s.get(User, user.id)
        row.is_admin = True
        s.add(row)
    return user.id


def raw(sql: str, **params) -> list[tuple]:
    """Rows as the database holds them (no decryption, no ORM)."""
    with db.engine().connect() as c:
        return [tuple(r) for r in c.execute(text(sql), params).all()]


def source_of(gen: Generation) -> Source:
    with db.session() as s:
        return s.exec(select(Source).where(Source.id == gen.source_id)).one()


def generation(gen_id: int) -> Generation:
    with db.session() as s:
        return s.get(Generation, gen_id)
