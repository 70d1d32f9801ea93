"""Policy versions: the shipped one is the published one; a material change is announced by
email to existing accounts and asked to be acknowledged, and every acknowledgment is logged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts.models import PolicyAcceptance
from omnipostr.notify.models import OutboxMessage
from omnipostr.privacy import policy, versions
from omnipostr.privacy.models import PolicyVersion
from tests.repurpose.helpers import member


def test_the_shipped_version_is_the_date_the_policy_says_it_was_last_updated():
    d = date.fromisoformat(versions.shipped_version())
    assert policy.last_updated() == versions.display(d.isoformat())


def _notices(s) -> list[OutboxMessage]:
    return [m for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all() if "privacy policy" in m.subject]


@pytest.mark.promise("POL-1")
def test_publishing_a_material_version_emails_existing_accounts_once_and_asks_each_to_acknowledge():
    ada = member()
    with db.session() as s:
        assert versions.sync(s) == 1  # the baseline: nobody is told of the policy they signed up under
        assert _notices(s) == [] and versions.pending(s, ada.user_id) is None
        assert versions.sync(s) == 0

    clock.advance(timedelta(days=3))
    new = (clock.now().date() + timedelta(days=1)).isoformat()
    with db.session() as s:
        versions.publish(s, new, material=True, summary="We added a processor for email delivery.")
        versions.publish(s, new, material=True, summary="again")  # once
        notices = _notices(s)
        assert [m.to_address for m in notices] == ["ada@example.com"]
        assert "We added a processor for email delivery." in notices[0].text_body
        assert s.exec(select(PolicyVersion).where(PolicyVersion.version == new)).one().notified_at is not None
        assert versions.pending(s, ada.user_id).version == new
        assert versions.current(s) == new

    bob = member("bob@example.com", team="Bobs")  # signed up under the new version: nothing to acknowledge
    with db.session() as s:
        assert versions.pending(s, bob.user_id) is None
        versions.acknowledge(s, ada.user_id, new)
        versions.acknowledge(s, ada.user_id, new)
        assert versions.pending(s, ada.user_id) is None
        acks = s.exec(select(PolicyAcceptance).where(PolicyAcceptance.user_id == ada.user_id).order_by(PolicyAcceptance.id)).all()
        assert [a.version for a in acks][1:] == [new]  # after the one she accepted at sign-up
        with pytest.raises(ValueError):
            versions.acknowledge(s, ada.user_id, "2001-01-01")


def test_a_change_that_is_not_material_asks_nothing_and_emails_nobody():
    ada = member()
    clock.advance(timedelta(days=2))
    with db.session() as s:
        versions.sync(s)
        versions.publish(s, (clock.now().date() + timedelta(days=1)).isoformat(), material=False, summary="Typo.")
        assert _notices(s) == [] and versions.pending(s, ada.user_id) is None


def test_people_who_sign_up_accept_the_version_that_ships():
    from omnipostr.settings import get_settings

    assert get_settings().privacy_policy_version == versions.shipped_version(), (
        "a new policy version ships: sign-up must record it (settings.privacy_policy_version)"
    )
