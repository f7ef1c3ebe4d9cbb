"""One Settings object, from `RDV_MONITOR_*` environment variables over the watch file's `settings:`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from monitor.errors import ConfigError

ENV_PREFIX = "RDV_MONITOR_"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LONGEST = 31 * 86400.0  # no duration setting makes sense beyond a month; inf or 1e300 would overflow date maths


class Settings(BaseModel):
    """Process-wide settings. Built once at start-up and passed down; nothing reads the environment later."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    config: Path = Path("rdv-monitor.yaml")
    prefectures_dir: Path = Path("prefectures")  # the démarches a watch's `prefecture:` names (environment only)
    data_dir: Path = Path("data")
    browser_path: Path | None = None
    host_gap_seconds: float = Field(default=20.0, ge=0, le=LONGEST)
    min_interval_seconds: float = Field(default=60.0, ge=0, le=LONGEST)
    max_concurrent_checks: int = Field(default=2, ge=1, le=16)
    # the longest gap after failures (a server's Retry-After may ask for more)
    backoff_max_seconds: float = Field(default=3600.0, gt=0, le=LONGEST)
    # how long running checks may finish after SIGTERM
    stop_grace_seconds: float = Field(default=10.0, ge=0, le=LONGEST)
    check_timeout_seconds: float = Field(default=90.0, gt=0, le=LONGEST)
    page_timeout_seconds: float = Field(default=30.0, gt=0, le=LONGEST)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    token: SecretStr | None = None
    public_url: str | None = None  # how people reach the dashboard, for links in notifications
    assist_timeout_seconds: float = Field(default=300.0, gt=0, le=LONGEST)
    unhealthy_after: int = Field(default=3, ge=1)
    notify_retry_seconds: float = Field(default=10.0, gt=0, le=LONGEST)  # first retry of a failed notification
    notify_retry_max_seconds: float = Field(default=600.0, gt=0, le=LONGEST)  # retries double up to this gap
    digest_period: Literal["weekly", "daily"] = "weekly"
    log_level: LogLevel = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "rdv-monitor.sqlite3"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """The `RDV_MONITOR_<NAME>` variables as field values (empty values are ignored)."""
    fields = Settings.model_fields
    found: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and value != "":
            name = key[len(ENV_PREFIX) :].lower()
            if name not in fields:
                raise ConfigError(f"environment: unknown setting {key} (known: {_known_env()})")
            found[name] = value
    return found


def _known_env() -> str:
    return ", ".join(ENV_PREFIX + name.upper() for name in Settings.model_fields)


def build_settings(
    environ: Mapping[str, str], file_settings: Mapping[str, Any] | None = None, *, file: str = "watch file"
) -> Settings:
    """Merge the watch file's `settings:` with the environment (the environment wins); file names the former.

    The file's block must be valid on its own, even where the environment overrides it.
    """
    values: dict[str, Any] = dict(file_settings or {})
    _validated(values, lambda field: f"{file}: settings.{field}")
    env = env_overrides(environ)
    return _validated(
        {**values, **env}, lambda field: ENV_PREFIX + field.upper() if field in env else f"{file}: settings.{field}"
    )


def _validated(values: Mapping[str, Any], source: Callable[[str], str]) -> Settings:
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        message = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"{source(field)}: {message}") from None


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the watch file is, before anything else is known."""
    return _early_path("config", environ)


def prefectures_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where prefectures/*.yaml are: needed while the watch file is read, so from the environment alone."""
    return _early_path("prefectures_dir", environ)


def _early_path(name: str, environ: Mapping[str, str] | None) -> Path:
    """A path setting from the environment alone, else its default."""
    env = os.environ if environ is None else environ
    return Path(env.get(ENV_PREFIX + name.upper()) or Settings.model_fields[name].default)
