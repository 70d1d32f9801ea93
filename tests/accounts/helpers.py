from __future__ import annotations

import re

from sqlmodel import select

from omnipostr import db
from omnipostr.accounts import service
from omnipostr.crypto import email_index
from omnipostr.notify.models import OutboxMessage

PASSWORD = "correct horse battery staple"


def sign_up(email="ada@example.com", name="Ada Lovelace", team="Analytical Engines", password=PASSWORD, verify=True, **kw):
    form = service.SignUpForm(
        name=name, email=email, password=password, team=team,
        age_confirmed=kw.pop("age_confirmed", True), policy_accepted=kw.pop("policy_accepted", True), **kw,
    )
    user = db.in_session(service.sign_up, form)
    if user is not None and verify:
        token = link_token(email.lower(), "verify_email")
        db.in_session(service.confirm_email, token)
    return user


def mails(to: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
    with db.session() as s:
        q = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            q = q.where(OutboxMessage.to_index == email_index(to))
        if kind:
            q = q.where(OutboxMessage.kind == kind)
        return list(s.exec(q).all())


def link_token(to: str, kind: str) -> str:
    msg = mails(to, kind)[-1]
    m = re.search(r"token=([A-Za-z0-9_\-]+)", msg.text_body)
    assert m, msg.text_body
    return m.group(1)


def actor_for(user_id: int, token: str | None = None) -> service.Actor:
    with db.session() as s:
        if token is None:
            user = s.get(service.User, user_id)
            token, _ = service.start_session(s, user, service.ClientInfo("10.0.0.1", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"))
        res = service.resolve_session(s, token)
        return res.actor
