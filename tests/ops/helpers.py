"""A member with a generation of posts, made through the services, and ways to read it back."""

from __future__ import annotations

import dataclasses

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.library import service as library
from omnipostr.repurpose import runner
from omnipostr.repurpose.engines.offline import OfflineEngine
from tests.accounts.helpers import PASSWORD, actor_for, sign_up
from tests.repurpose.helpers import ARTICLE, request, start

MARKER = "Quillwhistle"
"""A word typed into the article, the title and a post: it must never be found in the clear."""


@dataclasses.dataclass
class Seeded:
    email: str
    generation_id: int
    posts: dict[str, str]  # platform -> post text
    email_index: str


async def seed(email: str = "grace@example.com") -> Seeded:
    user = sign_up(email=email, name=f"Grace {MARKER}", team=f"{MARKER} Team")
    actor = actor_for(user.id)
    article = f"{MARKER} harbour lanterns is the phrase we keep for this.\n\n" + ARTICLE
    gen = start(actor, request(text=article, title=f"{MARKER} notes", platforms=["x", "linkedin", "bluesky"]))
    await runner.run(gen.id, engine=OfflineEngine())
    view = db.in_session(library.get_generation, actor, gen.id)
    x = next(v for v in view.variants if v.platform == "x")
    db.in_session(library.edit_variant, actor, x.id, [f"{MARKER} harbour lanterns, said once more."], {})
    return Seeded(email, gen.id, read_posts(email, gen.id), user.email_index)


def sign_in(email: str) -> accounts.Actor:
    """Sign in with the password through the accounts service."""
    user = db.in_session(accounts.authenticate, email, PASSWORD, "10.0.0.2")
    return actor_for(user.id)


def read_posts(email: str, generation_id: int) -> dict[str, str]:
    """The member signs in and reads the generation's posts through the library service."""
    actor = sign_in(email)
    view = db.in_session(library.get_generation, actor, generation_id)
    return {v.platform: v.post.text for v in view.variants if v.post is not None}


def search(email: str, query: str) -> list[int]:
    actor = sign_in(email)
    return [i.id for i in db.in_session(library.list_generations, actor, query=query).items]
