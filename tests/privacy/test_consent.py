"""Cookie and analytics consent: nothing optional before a choice, every choice logged with its
time and policy version, Global Privacy Control honoured, and a new material policy version
asks again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts.models import User
from omnipostr.privacy import consent, versions
from omnipostr.privacy.models import ConsentRecord
from omnipostr.usage.models import UsageEvent
from tests.repurpose.helpers import member, start


def _kinds(user_id: int) -> list[str]:
    with db.session() as s:
        return [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == user_id).order_by(UsageEvent.id))]


@pytest.mark.promise("CKI-1")
def test_no_usage_event_before_consent_and_each_choice_is_logged_with_time_and_policy_version():
    ada = member()
    start(ada)
    assert _kinds(ada.user_id) == []  # undecided: nothing recorded about what she does

    choice = db.in_session(lambda s: consent.record(s, consent_id=None, user_id=ada.user_id, analytics=True, preferences=False))
    start(ada)
    assert _kinds(ada.user_id) == ["generation.created"]

    db.in_session(lambda s: consent.record(s, consent_id=choice.consent_id, user_id=ada.user_id, analytics=False, preferences=True))
    start(ada)
    assert _kinds(ada.user_id) == ["generation.created"]  # refused again: nothing more

    with db.session() as s:
        rows = s.exec(select(ConsentRecord).where(ConsentRecord.consent_id == choice.consent_id).order_by(ConsentRecord.id)).all()
        assert [(r.analytics, r.preferences, r.user_id) for r in rows] == [(True, False, ada.user_id), (False, True, ada.user_id)]
        assert all(r.policy_version == versions.current(s) and r.created_at for r in rows)


def test_the_cookie_holds_the_choice_and_anything_else_is_no_choice():
    c = consent.Choice("a" * 32, True, False, "2025-11-24")
    assert consent.parse(c.cookie()) == c
    for bad in ("", "yes", "a" * 32 + ".11", "A" * 32 + ".11.2025-11-24", "a" * 32 + ".21.2025-11-24", None):
        assert consent.parse(bad) is None


@pytest.mark.promise("CKI-1")
def test_a_new_material_policy_version_asks_again():
    with db.session() as s:
        versions.sync(s)
        choice = consent.record(s, consent_id=None, user_id=None, analytics=False, preferences=False)
        assert not consent.needs_asking(s, choice)
        assert consent.needs_asking(s, None)
        later = (clock.now() + timedelta(days=400)).date().isoformat()
        versions.publish(s, later, material=False, summary="A typo.")
        assert not consent.needs_asking(s, choice)  # not material: the choice stands
        material = (clock.now() + timedelta(days=500)).date().isoformat()
        versions.publish(s, material, material=True, summary="New processor.")
        assert consent.needs_asking(s, choice)
        again = consent.record(s, consent_id=choice.consent_id, user_id=None, analytics=False, preferences=False)
        assert again.version == material and not consent.needs_asking(s, again)


@pytest.mark.promise("CKI-1", "GDPR-1")
def test_global_privacy_control_is_an_objection_recorded_once():
    ada = member()
    with db.session() as s:
        yes = consent.record(s, consent_id=None, user_id=ada.user_id, analytics=True, preferences=True)
        gpc = consent.honour_gpc(s, yes, ada.user_id)
        assert gpc is not None and gpc.gpc and not gpc.analytics and gpc.preferences
        assert s.get(User, ada.user_id).object_usage is True
        assert consent.honour_gpc(s, gpc, ada.user_id) is None  # recorded once, not at every page
        # a browser sending the signal before any choice: refused without asking
        first = consent.honour_gpc(s, None, None)
        assert first is not None and not first.analytics and not consent.needs_asking(s, first)
        assert s.exec(select(ConsentRecord).where(ConsentRecord.source == "gpc")).all()[0].user_id == ada.user_id
    start(ada)
    assert _kinds(ada.user_id) == []


def test_an_account_that_never_chose_takes_its_browsers_choice_once():
    ada = member()
    with db.session() as s:
        visitor = consent.record(s, consent_id=None, user_id=None, analytics=True, preferences=False)
        assert consent.adopt(s, visitor, ada.user_id) is True
        assert s.get(User, ada.user_id).object_usage is False
        assert consent.adopt(s, visitor, ada.user_id) is False
        assert consent.latest_for_user(s, ada.user_id).consent_id == visitor.consent_id
