"""NOT-3: posts are featured only with the workspace's explicit permission, off by default and
recorded with its time; nothing without it appears on any page served to the public."""

from __future__ import annotations

import pytest
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.models import Membership
from omnipostr.library import service as library
from omnipostr.privacy import export
from omnipostr.repurpose.models import Generation
from omnipostr.repurpose.service import ComposeError, NotFound
from omnipostr.usage.models import UsageEvent
from tests.library.test_service import generated
from tests.repurpose.helpers import member


@pytest.mark.promise("NOT-3")
async def test_permission_is_off_by_default_recorded_with_its_time_and_can_be_withdrawn():
    ada = member()
    gen = await generated(ada, platforms=("x",))
    with db.session() as s:
        assert s.get(Generation, gen.id).may_feature_at is None
    since = db.in_session(library.set_may_feature, ada, gen.id, True)
    assert since is not None and abs((clock.now() - since).total_seconds()) < 5
    assert db.in_session(library.set_may_feature, ada, gen.id, True) == since  # asked again: the first time stays
    with db.session() as s:
        doc = export.document(s, s.get(accounts.User, ada.user_id))
        kinds = [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == ada.user_id))]
    rows = {h["table"]: h["rows"] for h in doc["holdings"]}
    assert rows["generations"][0]["may_feature_at"] == since.isoformat()
    assert "privacy.feature_allowed" in kinds  # the choice itself is kept, like every privacy choice
    assert db.in_session(library.set_may_feature, ada, gen.id, False) is None
    with db.session() as s:
        assert s.get(Generation, gen.id).may_feature_at is None


@pytest.mark.promise("NOT-3")
async def test_only_its_maker_or_a_manager_can_allow_it_and_no_other_workspace_at_all():
    ada = member()
    gen = await generated(ada, platforms=("x",))
    bob = member("bob@example.com", "Harbour Works")
    with db.session() as s:
        s.add(Membership(workspace_id=ada.workspace_id, user_id=bob.user_id, role="member"))
        s.commit()
    bob_there = accounts.Actor(user_id=bob.user_id, workspace_id=ada.workspace_id, role="member")
    with pytest.raises(ComposeError):
        db.in_session(library.set_may_feature, bob_there, gen.id, True)  # a member who did not make them
    with pytest.raises(NotFound):
        db.in_session(library.set_may_feature, bob, gen.id, True)  # from his own workspace: not even found
    with db.session() as s:
        assert s.get(Generation, gen.id).may_feature_at is None
