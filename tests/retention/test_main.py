"""The operators' command for legal holds and a dry run of the retention rules."""

from __future__ import annotations

from omnipostr.retention.__main__ import main
from tests.repurpose.helpers import member
from tests.retention.helpers import admin, days, generated


async def test_an_admin_holds_lists_and_releases_from_the_command_line(capsys):
    ada = member()
    await generated(ada)
    admin()
    assert main(["hold", "--admin", "ada@example.com", "--account", "ada@example.com", "--reason", "mine"]) == 2
    assert "Only an admin" in capsys.readouterr().err
    assert main(["hold", "--admin", "dpo@example.com", "--account", "ada@example.com", "--reason", "Case 24-117"]) == 0
    placed = capsys.readouterr().out
    assert "in force" in placed
    hold_id = placed.split()[1]
    days(91)
    assert main(["dry-run"]) == 0
    out = capsys.readouterr().out
    assert "source_text        would purge        0   kept for a legal hold      1" in out
    assert main(["release", hold_id, "--admin", "dpo@example.com", "--reason", "Settled"]) == 0
    assert main(["holds", "--admin", "dpo@example.com", "--account", "ada@example.com"]) == 0
    assert "released" in capsys.readouterr().out.splitlines()[-1]
    assert main(["dry-run"]) == 0
    assert "source_text        would purge        1   kept for a legal hold      0" in capsys.readouterr().out
