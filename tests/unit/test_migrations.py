"""Alembic migrations and SQLAlchemy models agree; the schema upgrades from nothing and downgrades to nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from monitor.storage import db
from monitor.storage.models import Base


def alembic(path: Path, action: Callable[[Config, str], Any], revision: str) -> None:
    """Run an Alembic command on the database at path the way the application does (foreign keys off)."""
    url = f"sqlite:///{path}"
    engine = db.make_engine(url, foreign_keys=False)
    try:
        with engine.begin() as connection:
            config = db.alembic_config(url)
            config.attributes["connection"] = connection
            action(config, revision)
    finally:
        engine.dispose()


def tables(path: Path) -> set[str]:
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def triggers(path: Path) -> set[str]:
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    finally:
        engine.dispose()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "rdv-monitor.sqlite3"


def test_there_is_one_head() -> None:
    heads = ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; give yours down_revision = the current head"


def test_upgrade_from_empty_matches_the_models(database: Path) -> None:
    db.upgrade(database)
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
    assert set(Base.metadata.tables) <= tables(database)


def test_the_append_only_triggers_are_created(database: Path) -> None:
    db.upgrade(database)
    for table in ("checks", "evidence_files"):
        assert {f"{table}_no_update", f"{table}_no_delete"} <= triggers(database)


def test_upgrade_is_idempotent(database: Path) -> None:
    db.upgrade(database)
    db.upgrade(database)
    assert set(Base.metadata.tables) <= tables(database)


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(database: Path) -> None:
    db.upgrade(database)
    alembic(database, command.downgrade, "base")
    assert tables(database) <= {"alembic_version"}
    assert triggers(database) == set()
    db.upgrade(database)
    assert set(Base.metadata.tables) <= tables(database)


def test_every_step_downgrades_and_upgrades_again(database: Path) -> None:
    db.upgrade(database)
    revisions = [r.revision for r in ScriptDirectory.from_config(db.alembic_config("sqlite://")).walk_revisions()]
    for _ in revisions:
        alembic(database, command.downgrade, "-1")
    assert tables(database) <= {"alembic_version"}
    for _ in revisions:
        alembic(database, command.upgrade, "+1")
    assert set(Base.metadata.tables) <= tables(database)


def test_wal_mode_is_on(database: Path) -> None:
    db.upgrade(database)
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_db_upgrade_command(env: dict[str, str], run_cli: Any) -> None:
    Path(env["RDV_MONITOR_CONFIG"]).write_text("watches: []\n", encoding="utf-8")
    result = run_cli("db", "upgrade")
    database = Path(env["RDV_MONITOR_DATA_DIR"]) / "rdv-monitor.sqlite3"
    assert (result.code, result.out.strip()) == (0, f"database up to date: {database}")
    assert set(Base.metadata.tables) <= tables(database)
