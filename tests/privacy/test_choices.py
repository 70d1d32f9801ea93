"""Choices made in the privacy center take effect at once, and are recorded with their time."""

from __future__ import annotations

import pytest
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts.models import User
from omnipostr.privacy import service
from omnipostr.repurpose.service import ComposeError
from omnipostr.usage.models import UsageEvent
from tests.repurpose.helpers import member, start


@pytest.mark.promise("GDPR-2")
def test_restricting_processing_stops_generation_until_it_is_lifted():
    ada = member()
    assert db.in_session(service.set_restriction, ada.user_id, True) is True
    with pytest.raises(ComposeError) as refused:
        start(ada)
    assert refused.value.field == "restricted" and "Settings → Privacy" in refused.value.message
    db.in_session(service.set_restriction, ada.user_id, False)
    assert start(ada).id
    with db.session() as s:
        kinds = [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == ada.user_id).order_by(UsageEvent.id))]
    assert kinds[:2] == ["privacy.restriction_on", "privacy.restriction_off"]


@pytest.mark.promise("RGT-4")
def test_marketing_email_is_off_until_chosen_and_can_be_turned_off_again():
    ada = member()
    with db.session() as s:
        assert s.get(User, ada.user_id).marketing_opt_in is False
    assert db.in_session(service.set_marketing, ada.user_id, True) is True
    assert db.in_session(service.set_marketing, ada.user_id, False) is False
    with db.session() as s:
        assert s.get(User, ada.user_id).marketing_opt_in is False


@pytest.mark.promise("GDPR-1")
async def test_after_objecting_to_usage_analytics_no_usage_event_is_recorded_about_the_user():
    from omnipostr.library import service as library
    from tests.library.test_service import generated

    ada = member()
    db.in_session(service.set_usage_objection, ada.user_id, False)  # she consented to usage analytics
    gen = await generated(ada, platforms=("x",))
    v = db.in_session(library.get_generation, ada, gen.id).variants[0]

    def kinds():
        with db.session() as s:
            return [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == ada.user_id).order_by(UsageEvent.id))]

    before = kinds()
    assert "generation.created" in before
    assert db.in_session(service.set_usage_objection, ada.user_id, True) is True
    db.in_session(library.edit_variant, ada, v.id, ["An edit while objecting."], {})
    await generated(ada, platforms=("x",))
    assert kinds() == [*before, "privacy.usage_objection"]  # the objection, with its time, and nothing after
    db.in_session(service.set_usage_objection, ada.user_id, False)
    db.in_session(library.edit_variant, ada, v.id, ["An edit after withdrawing."], {})
    assert kinds()[-2:] == ["privacy.usage_objection_withdrawn", "feature.edit"]
