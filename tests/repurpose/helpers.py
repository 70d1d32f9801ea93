"""Shared set-up for repurposing tests: members in workspaces, sample articles, requests."""

from __future__ import annotations

from pathlib import Path

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.privacy import consent
from omnipostr.repurpose import service
from tests.accounts.helpers import actor_for, sign_up

ARTICLES = Path(__file__).resolve().parent.parent / "fixtures" / "articles"

ARTICLE = """Why small teams should write less and publish more

Most small teams publish one long article a month and then go quiet. Our data from 412 customer
workspaces shows that teams who repurpose each article into six platform posts get 3.4 times
more visits to the original within two weeks.

The reason is simple. People meet your ideas where they already are. A LinkedIn reader will not
click through to a blog, but will read a good post with a strong first line. An X thread that
tells the story in seven steps travels further than a link with a headline.

Repurposing is not copying. Each platform has its own rhythm. Instagram captions need the point
in the first sentence. Bluesky allows 300 characters, so every word has to earn its place.
Newsletters reward a clear subject line and one idea per issue.

Start with one article this week. Pick the three platforms where your audience already spends
time. Write the hook first, then the body, then the call to action. Measure visits to the
original after fourteen days, and keep what works.
"""


def member(email: str = "ada@example.com", team: str = "Analytical Engines", *, analytics: bool = False) -> accounts.Actor:
    """A member of a new workspace; ``analytics``: they agreed to usage analytics (without it
    no usage event is recorded about them)."""
    user = sign_up(email=email, name=email.split("@")[0].title(), team=team)
    if analytics:
        db.in_session(lambda s: consent.record(s, consent_id=None, user_id=user.id, analytics=True, preferences=False))
    return actor_for(user.id)


def request(text: str = ARTICLE, platforms: list[str] | None = None, **kw) -> service.ComposeRequest:
    return service.ComposeRequest(text=text, platforms=["x", "linkedin", "bluesky"] if platforms is None else platforms, **kw)


def start(actor, req: service.ComposeRequest | None = None, engine: str = "offline", model: str = "offline-1"):
    return db.in_session(service.start_generation, actor, req or request(), engine=engine, model=model)
