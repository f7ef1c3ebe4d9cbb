"""Settings: `RDV_MONITOR_*` over the watch file's `settings:`; a bad value is one line naming it, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.config import Settings, build_settings, config_path, env_overrides
from monitor.errors import ConfigError
from tests.conftest import write_watches
from tests.unit.test_catalog import URL, one_line_error


def test_defaults_are_the_documented_ones() -> None:
    settings = Settings()
    assert settings.config == Path("rdv-monitor.yaml")
    assert settings.data_dir == Path("data")
    assert settings.browser_path is None
    assert settings.host_gap_seconds == 20.0
    assert settings.database_path == Path("data/rdv-monitor.sqlite3")
    assert settings.evidence_dir == Path("data/evidence")


def test_the_environment_wins_over_the_file() -> None:
    settings = build_settings(
        {"RDV_MONITOR_HOST_GAP_SECONDS": "0", "RDV_MONITOR_DATA_DIR": "/srv/rdv"},
        {"host_gap_seconds": 45, "page_timeout_seconds": 12},
    )
    assert settings.host_gap_seconds == 0
    assert settings.page_timeout_seconds == 12
    assert settings.data_dir == Path("/srv/rdv")


def test_empty_variables_and_foreign_variables_are_ignored() -> None:
    found = env_overrides({"RDV_MONITOR_BROWSER_PATH": "", "HOME": "/root", "RDV_MONITORX": "1"})
    assert found == {}


def test_log_level_is_case_insensitive() -> None:
    assert build_settings({"RDV_MONITOR_LOG_LEVEL": "debug"}).log_level == "DEBUG"


def test_config_path_default_and_override() -> None:
    assert config_path({}) == Path("rdv-monitor.yaml")
    assert config_path({"RDV_MONITOR_CONFIG": "/etc/rdv.yaml"}) == Path("/etc/rdv.yaml")


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.host_gap_seconds = 1  # type: ignore[misc]


def test_a_bad_file_value_is_named_even_when_the_environment_overrides_it() -> None:
    with pytest.raises(ConfigError, match=r"^w\.yaml: settings\.host_gap_seconds: "):
        build_settings({"RDV_MONITOR_HOST_GAP_SECONDS": "0"}, {"host_gap_seconds": "soon"}, file="w.yaml")


BAD_ENV = [
    ("RDV_MONITOR_HOST_GAP_SECONDS", "abc", "RDV_MONITOR_HOST_GAP_SECONDS: Input should be a valid number"),
    ("RDV_MONITOR_HOST_GAP_SECONDS", "-1", "RDV_MONITOR_HOST_GAP_SECONDS: Input should be greater than or equal to 0"),
    ("RDV_MONITOR_PAGE_TIMEOUT_SECONDS", "0", "RDV_MONITOR_PAGE_TIMEOUT_SECONDS: Input should be greater than 0"),
    ("RDV_MONITOR_PORT", "99999", "RDV_MONITOR_PORT:"),
    # inf/nan/huge durations passed, then crashed status/run (OverflowError) or every timeout
    ("RDV_MONITOR_CHECK_TIMEOUT_SECONDS", "inf", "RDV_MONITOR_CHECK_TIMEOUT_SECONDS: Input should be a finite"),
    ("RDV_MONITOR_HOST_GAP_SECONDS", "nan", "RDV_MONITOR_HOST_GAP_SECONDS: Input should be a finite"),
    ("RDV_MONITOR_MIN_INTERVAL_SECONDS", "1e300", "RDV_MONITOR_MIN_INTERVAL_SECONDS: Input should be less than"),
    ("RDV_MONITOR_MAX_CONCURRENT_CHECKS", "two", "RDV_MONITOR_MAX_CONCURRENT_CHECKS:"),
    ("RDV_MONITOR_FOO", "1", "environment: unknown setting RDV_MONITOR_FOO (known: RDV_MONITOR_CONFIG,"),
    ("RDV_MONITOR_HOSTGAP", "1", "unknown setting RDV_MONITOR_HOSTGAP"),
    ("RDV_MONITOR_LOG_LEVEL", "loud", "RDV_MONITOR_LOG_LEVEL: unknown level 'LOUD'"),
]


@pytest.mark.parametrize(("name", "value", "needle"), BAD_ENV, ids=[f"{n}={v}" for n, v, _ in BAD_ENV])
def test_a_bad_environment_setting_is_one_line(
    name: str, value: str, needle: str, env: dict[str, str], run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [{"id": "a", "url": URL}]})
    monkeypatch.setenv(name, value)
    one_line_error(run_cli("validate"), needle)


def test_unknown_variable_lists_every_known_one(
    env: dict[str, str], run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": []})
    monkeypatch.setenv("RDV_MONITOR_DATADIR", "/tmp")
    line = one_line_error(run_cli("validate"), "RDV_MONITOR_DATADIR")
    assert all(f"RDV_MONITOR_{field.upper()}" in line for field in Settings.model_fields)


def test_config_names_a_missing_file(env: dict[str, str], run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDV_MONITOR_CONFIG", "/nonexistent/watches.yaml")
    one_line_error(run_cli("validate"), "/nonexistent/watches.yaml: file not found")


def test_an_unusable_data_dir_is_one_line(
    env: dict[str, str], workdir: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": []})
    (workdir / "a-file").write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("RDV_MONITOR_DATA_DIR", str(workdir / "a-file" / "data"))
    one_line_error(run_cli("db", "upgrade"), "data directory", str(workdir / "a-file"))


def test_a_bad_file_setting_names_the_file(env: dict[str, str], run_cli: Any) -> None:
    path = Path(env["RDV_MONITOR_CONFIG"])
    write_watches(path, {"settings": {"log_level": "chatty"}, "watches": []})
    one_line_error(run_cli("validate"), f"{path}: settings.log_level:")


def test_a_file_that_is_not_a_database_is_one_line(
    env: dict[str, str], workdir: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": []})
    (workdir / "data" / "rdv-monitor.sqlite3").write_bytes(b"not SQLite at all" * 10)
    one_line_error(run_cli("status"), "rdv-monitor.sqlite3: cannot use it: file is not a database")
    (workdir / "data" / "rdv-monitor.sqlite3").unlink()
    (workdir / "data" / "rdv-monitor.sqlite3").mkdir()
    one_line_error(run_cli("history", "x"), "no watch with id")  # the watch is looked up first
    one_line_error(run_cli("db", "upgrade"), "rdv-monitor.sqlite3: cannot use it:")


def test_an_unusable_lock_file_is_one_line(env: dict[str, str], workdir: Path, run_cli: Any) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": []})
    (workdir / "data" / "rdv-monitor.lock").mkdir()
    one_line_error(run_cli("run"), "rdv-monitor.lock: cannot open the lock file")
