"""The data inventory covers every table: one that refers to a person or a workspace is
declared with what it holds; any other is declared to hold nothing personal, with the reason."""

from __future__ import annotations

import pytest
from sqlmodel import SQLModel

from omnipostr import tables  # noqa: F401 - every capability's tables
from omnipostr.personal_data import CATEGORIES
from omnipostr.privacy import inventory

REFERS = {"user_id", "workspace_id", "created_by", "author_id", "owner_id", "invited_by_id"}


def _refers_to_a_person(table) -> bool:
    fk = {f.column.table.name for c in table.columns for f in c.foreign_keys}
    return bool(fk & {"users", "workspaces"}) or bool({c.name for c in table.columns} & REFERS)


@pytest.mark.promise("CCPA-1")
def test_every_table_is_declared_once_and_every_table_about_people_is_a_holding():
    held = [h.table for h in inventory.holdings()]
    assert len(held) == len(set(held)), "a table is declared twice"
    other = inventory.not_personal()
    tables_ = SQLModel.metadata.tables
    undeclared = sorted(set(tables_) - set(held) - set(other))
    assert undeclared == [], f"declare these tables in their capability's personal_data.py: {undeclared}"
    assert sorted((set(held) | set(other)) - set(tables_)) == []
    wrong = sorted(t for t in other if _refers_to_a_person(tables_[t]))
    assert wrong == [], f"these refer to a person and must be holdings: {wrong}"
    assert not set(held) & set(other)


def test_each_holding_says_what_why_on_what_basis_and_how_long():
    for h in inventory.holdings():
        assert h.category in CATEGORIES
        assert h.what and h.purpose and h.basis
        assert inventory.retention(h.retention)  # a rule that exists, in words
        assert h.erase in ("delete", "anonymise", "keep")
