"""The Docker files, checked without a Docker engine: versions, paths, settings and the healthcheck agree."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from monitor.config import ENV_PREFIX, Settings, build_settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    pairs = [line.strip().split(None, 1) for line in joined.splitlines() if line.strip()]
    return [(p[0].upper(), p[1] if len(p) > 1 else "") for p in pairs]


def instructions(name: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction == name]


def image_env() -> dict[str, str]:
    found: dict[str, str] = {}
    for args in instructions("ENV"):
        found.update(dict(item.split("=", 1) for item in shlex.split(args)))
    return found


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def service(compose: dict[str, Any]) -> dict[str, Any]:
    assert list(compose["services"]) == ["rdv-monitor"]
    return dict(compose["services"]["rdv-monitor"])


def pinned_playwright() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [d.split("==", 1)[1] for d in project["dependencies"] if re.match(r"playwright\s*==", d)]
    assert len(pins) == 1, "pyproject.toml must pin playwright exactly"
    return pins[0].strip()


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def test_image_is_the_playwright_release_the_project_pins() -> None:
    (base,) = instructions("FROM")
    assert base == f"mcr.microsoft.com/playwright/python:v{pinned_playwright()}-noble"


def test_every_copied_path_exists_and_is_not_docker_ignored() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    copied = [src for args in instructions("COPY") for src in args.split()[:-1] if not src.startswith("--")]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
        assert source not in ignored, f"COPY {source} is excluded by .dockerignore"
    assert {".env", ".venv", ".git", "data"} <= ignored  # secrets and local state stay out of the image


def test_runs_as_a_non_root_user_and_starts_the_service() -> None:
    users = instructions("USER")
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert instructions("CMD")[-1] == '["rdv-monitor", "run"]'
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "rdv-monitor" in scripts
    assert any("pip install -e ." in args for args in instructions("RUN")), "migrations/ is found from the source tree"


def test_compose_runs_for_weeks(service: dict[str, Any]) -> None:
    assert service["restart"] == "unless-stopped"
    assert service["init"] is True  # PID 1 reaps the browser's children
    assert service["build"] == "."
    assert (ROOT / "Dockerfile").is_file()
    assert service["env_file"] == ".env"
    assert (ROOT / ".env.example").is_file()
    assert _seconds(service["stop_grace_period"]) > float(env_example()["RDV_MONITOR_STOP_GRACE_SECONDS"])
    assert service["logging"]["options"]["max-size"]  # logs do not fill the disk over weeks


def test_data_lives_in_a_named_volume_and_the_watch_file_is_mounted(
    compose: dict[str, Any], service: dict[str, Any]
) -> None:
    env = service["environment"]
    mounts = dict(reversed(m.split(":")[:2]) for m in service["volumes"])
    data_dir = env["RDV_MONITOR_DATA_DIR"]
    assert mounts[data_dir] in compose["volumes"]
    config_dir = str(PurePosixPath(env["RDV_MONITOR_CONFIG"]).parent)
    assert mounts[config_dir].startswith("./")  # a host directory holding rdv-monitor.yaml
    assert data_dir == image_env()["RDV_MONITOR_DATA_DIR"]
    assert env["RDV_MONITOR_CONFIG"] == image_env()["RDV_MONITOR_CONFIG"]
    assert data_dir in instructions("VOLUME")[0]


def test_listening_beyond_localhost_requires_a_token(service: dict[str, Any]) -> None:
    env = service["environment"]
    assert env["RDV_MONITOR_HOST"] == "0.0.0.0"
    assert re.fullmatch(r"\$\{RDV_MONITOR_TOKEN:\?.+\}", env["RDV_MONITOR_TOKEN"])
    published = [str(p) for p in service["ports"]]
    assert [p.rsplit(":", 1)[1] for p in published] == [env["RDV_MONITOR_PORT"]]


def test_env_example_holds_only_known_valid_settings() -> None:
    values = env_example()
    assert "RDV_MONITOR_TOKEN" in values
    for key in values:
        assert key.startswith(ENV_PREFIX)
        assert key[len(ENV_PREFIX) :].lower() in Settings.model_fields, f"{key} is not a setting"
    settings = build_settings(values)
    assert settings.token is not None


class Healthz(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def healthz() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_healthcheck_needs_only_python_and_really_probes_healthz(service: dict[str, Any], healthz: int) -> None:
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert test[1] == "python"
    assert not any(tool in " ".join(test) for tool in ("curl", "wget"))
    command = [sys.executable, *test[2:]]
    up = subprocess.run(command, env={**os.environ, "RDV_MONITOR_PORT": str(healthz)}, capture_output=True, timeout=30)
    assert up.returncode == 0, up.stderr
    down = subprocess.run(command, env={**os.environ, "RDV_MONITOR_PORT": "9"}, capture_output=True, timeout=30)
    assert down.returncode != 0


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([BIN / "hadolint", ROOT / "Dockerfile"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", ROOT / "docker-compose.yml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return float(match.group(1)) * (60 if match.group(2) == "m" else 1)
