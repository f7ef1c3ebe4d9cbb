"""Shared fixtures: an isolated data dir and watch file per test, and the environment to run the CLI in."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.fixture
def env(workdir: Path) -> Iterator[dict[str, str]]:
    """RDV_MONITOR_* settings pointing at the test's own files; applied to os.environ for in-process CLI calls."""
    values = {
        "RDV_MONITOR_CONFIG": str(workdir / "rdv-monitor.yaml"),
        "RDV_MONITOR_DATA_DIR": str(workdir / "data"),
        "RDV_MONITOR_HOST_GAP_SECONDS": "0",
        "RDV_MONITOR_MIN_INTERVAL_SECONDS": "0",
        "RDV_MONITOR_PAGE_TIMEOUT_SECONDS": "4",
        "RDV_MONITOR_CHECK_TIMEOUT_SECONDS": "20",
        "RDV_MONITOR_LOG_LEVEL": "WARNING",
        "RDV_MONITOR_PORT": "0",  # `run` serves the dashboard: a free port, never a clash between tests
    }
    saved = {k: v for k, v in os.environ.items() if k.startswith("RDV_MONITOR_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(values)
    yield values
    for key in values:
        os.environ.pop(key, None)
    os.environ.update(saved)


def write_watches(path: Path, document: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


@pytest.fixture
def run_cli(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """Run `rdv-monitor ARGS...` in-process with the test's environment; returns exit code, stdout, stderr."""

    def run(*args: str) -> CliRun:
        from monitor.cli import main

        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliRun(code=code, out=captured.out, err=captured.err)

    return run
