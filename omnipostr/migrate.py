"""Bring the database schema up to date: ``python -m omnipostr.migrate``."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command
from omnipostr.settings import PROJECT_ROOT, get_settings


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(PROJECT_ROOT / "alembic")))
    cfg.attributes["url"] = url or get_settings().db_url
    cfg.attributes["skip_logging"] = True
    return cfg


def upgrade(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "head")


if __name__ == "__main__":
    upgrade()
    print("database schema is up to date")
