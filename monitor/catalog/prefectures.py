"""prefectures/*.yaml: one file per prefecture, data only: the démarches someone can attest (URL, platform, label,
announced release windows). A watch names one as `prefecture: <file>/<démarche id>` to take it as defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import Field, field_validator

from monitor.catalog import platform_options, read_yaml, unique_ids, validated
from monitor.catalog.schema import Schedule, Strict, WatchSpec, Window, check_id, check_url
from monitor.errors import ConfigError

DEPARTMENT = r"^(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])$"


class DemarcheSpec(Strict):
    id: str
    label: str = Field(min_length=1)
    url: str
    platform: str | None = None  # recognised from the URL when omitted
    options: dict[str, Any] = Field(default_factory=dict)
    release_windows: tuple[Window, ...] = ()  # only when the prefecture announced them
    source: str = Field(min_length=1)  # where the URL and times were seen (field notes section, public notice)

    _id = field_validator("id")(check_id)
    _url = field_validator("url")(check_url)


class PrefectureSpec(Strict):
    department: str = Field(pattern=DEPARTMENT)
    name: str = Field(min_length=1)
    demarches: tuple[DemarcheSpec, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Demarche:
    """One attested booking page of a prefecture, ready to be a watch's defaults."""

    key: str  # "<file stem>/<démarche id>", what a watch's `prefecture:` names
    prefecture: str
    department: str
    label: str
    url: str
    platform: str
    options: Mapping[str, Any]
    release_windows: tuple[Window, ...]
    source: str

    @property
    def schedule(self) -> Schedule:
        """The prefecture's layer of a watch's schedule: its release windows, nothing else."""
        return Schedule(windows=self.release_windows or None)


def load_prefectures(directory: Path) -> Mapping[str, Demarche]:
    """Every démarche of every `*.yaml` in directory, by key; a bad file fails with its name and field."""
    if not directory.is_dir():
        raise ConfigError(
            f"{directory.absolute()}: no prefectures folder, which a watch's prefecture: needs "
            "(set RDV_MONITOR_PREFECTURES_DIR)"
        )
    found: dict[str, Demarche] = {}
    for path in sorted(directory.glob("*.yaml")):
        for demarche in load_prefecture(path):
            found[demarche.key] = demarche
    return MappingProxyType(found)


def load_prefecture(path: Path) -> tuple[Demarche, ...]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with department, name and demarches")
    spec = validated(path, PrefectureSpec, raw)
    unique_ids(path, "demarches", [item.id for item in spec.demarches])
    return tuple(_demarche(path, index, spec, item) for index, item in enumerate(spec.demarches))


def _demarche(path: Path, index: int, spec: PrefectureSpec, item: DemarcheSpec) -> Demarche:
    where = f"{path}: demarches[{index}]"
    name, options = platform_options(where, item.url, item.platform, item.options)
    return Demarche(
        key=f"{path.stem}/{item.id}",
        prefecture=spec.name,
        department=spec.department,
        label=item.label,
        url=item.url,
        platform=name,
        options=MappingProxyType(options.model_dump(mode="json", exclude_none=True)),
        release_windows=item.release_windows,
        source=item.source,
    )


def with_prefecture(spec: WatchSpec, entries: Mapping[str, Demarche], where: str) -> WatchSpec:
    """The watch with its prefecture entry's URL, platform, label and options where it sets none of its own."""
    if spec.prefecture is None:
        return spec
    entry = entries.get(spec.prefecture)
    if entry is None:
        keys = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"{where}.prefecture: no démarche {spec.prefecture!r} (known: {keys})")
    same_page = spec.url in (None, entry.url)
    return spec.model_copy(
        update={
            "url": spec.url or entry.url,
            "platform": spec.platform or (entry.platform if same_page else None),
            "label": spec.label or entry.label,
            "options": spec.options or (dict(entry.options) if same_page else {}),
        }
    )
