"""Alembic environment: OmniPostr's settings give the URL, SQLModel's metadata the schema."""

from logging.config import fileConfig

from sqlalchemy import event, text
from sqlmodel import SQLModel

import omnipostr.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import context
from omnipostr.db import make_engine
from omnipostr.settings import get_settings

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    return config.attributes.get("url") or get_settings().db_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    if engine.dialect.name == "sqlite":
        # SQLite alters a table by copying it and dropping the old one: with foreign keys on,
        # that drop would cascade into every table that refers to it. Off while migrating,
        # then checked.
        event.listen(engine, "connect", lambda dbapi_conn, _rec: dbapi_conn.execute("PRAGMA foreign_keys=OFF"))
    with engine.connect() as conn:
        _run(conn)
        if engine.dialect.name == "sqlite":
            broken = conn.execute(text("PRAGMA foreign_key_check")).fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows that refer to nothing: {broken[:5]}")
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
