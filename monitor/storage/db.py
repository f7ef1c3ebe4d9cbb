"""Engine set-up (SQLite in WAL mode) and Alembic migrations, applied programmatically."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError

from monitor.errors import ConfigError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def make_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """An engine whose connections use WAL, NORMAL sync, a busy timeout, and explicit BEGINs."""
    engine = create_engine(url, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front so two processes cannot fork a watch's hash chain.
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(database_path: Path) -> None:
    """Create or upgrade the database to the newest schema (migrations run with foreign keys off)."""
    try:
        database_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"data directory {database_path.parent}: cannot create it: {exc.strerror}") from None
    url = f"sqlite:///{database_path}"
    engine = make_engine(url, foreign_keys=False)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(config, "head")
            after = MigrationContext.configure(connection).get_current_revision()
        if before != after:
            log.info("database %s: schema %s -> %s", database_path, before or "(new)", after)
    except DatabaseError as exc:  # not a database, a directory, unreadable...: the user's file to fix
        raise ConfigError(f"database {database_path}: cannot use it: {exc.orig}") from None
    finally:
        engine.dispose()
