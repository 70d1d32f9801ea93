"""The operator's commands: ``python -m omnipostr <command>`` (``--help`` lists them).

    backup [--to DIR]        back the database up (keys are not in it: back them up apart)
    restore FILE [--yes]     replace the database with a backup (asks for --yes)
    keys status              values per content key, per table and column
    keys new                 a new content key, made the newest
    keys rotate [--batch N]  re-encrypt everything under the newest key (resumable)

The commands live in ``omnipostr/ops/commands.py``; the work in ``ops/backup.py`` and
``ops/keys.py``. Other entry points: ``python -m omnipostr.migrate``,
``python -m omnipostr.repurpose.worker``, ``python -m omnipostr.privacy.marketing``.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from omnipostr.ops import commands

    parser = argparse.ArgumentParser(
        prog="python -m omnipostr",
        description="OmniPostr operations: backups, restore and content keys. Settings come from "
        "the environment and .env, as for the app (OMNIPOSTR_DATABASE_URL, OMNIPOSTR_KEYS_DIR...).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parsers(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
