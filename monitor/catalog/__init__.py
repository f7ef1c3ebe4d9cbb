"""Load and validate the user's watch file into frozen values, failing with one line naming file and field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from monitor.catalog.schema import Defaults, NotifySpec, Schedule, WatchFile, WatchSpec
from monitor.domain import Watch
from monitor.errors import ConfigError
from monitor.platforms import get_platform, known, recognise

Parsed = TypeVar("Parsed", bound=BaseModel)
DEFAULT_PREFECTURES = Path("prefectures")  # like the data dir, relative to where the service runs


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    """Everything the watch file says, validated."""

    path: Path
    settings: Mapping[str, Any]
    defaults: Defaults
    watches: tuple[Watch, ...]
    schedules: Mapping[str, Schedule]  # watch id -> its own schedule block (unmerged)
    notify: tuple[NotifySpec, ...]
    #: watch id -> the schedule layer of its `prefecture:` entry (release windows), between its own and defaults
    prefecture_schedules: Mapping[str, Schedule] = field(default_factory=lambda: MappingProxyType({}))
    disabled: frozenset[str] = frozenset()  # ids of watches with `enabled: false`: never scheduled, still checkable

    def watch(self, watch_id: str) -> Watch:
        for watch in self.watches:
            if watch.id == watch_id:
                return watch
        ids = ", ".join(w.id for w in self.watches) or "none"
        raise ConfigError(f"{self.path}: no watch with id {watch_id!r} (watches: {ids})")


def read_yaml(path: Path) -> Any:
    """The parsed YAML document at path, or a ConfigError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (set RDV_MONITOR_CONFIG or create it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if "expected <block end>" in problem or "mapping values are not allowed" in problem:
            problem += " (check the indentation: spaces only, the same for items of one list)"
        raise ConfigError(f"{path}:{where}: {problem}") from None


def load_catalog(path: Path, *, prefectures: Path = DEFAULT_PREFECTURES) -> Catalog:
    """Read, validate and resolve the watch file at path (`prefecture:` entries are read from prefectures/)."""
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'watches:' list at the top")
    return resolve(path, validated(path, WatchFile, raw), prefectures)


def validated(path: Path, model: type[Parsed], raw: dict[str, Any]) -> Parsed:
    """raw as the model, or a ConfigError naming the file and the first bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from None


def resolve(path: Path, parsed: WatchFile, prefectures: Path = DEFAULT_PREFECTURES) -> Catalog:
    from monitor.catalog.prefectures import load_prefectures, with_prefecture  # it reads files with this module

    entries = load_prefectures(prefectures) if any(s.prefecture for s in parsed.watches) else {}
    seen = unique_ids(path, "watches", [spec.id for spec in parsed.watches])
    watches = [
        to_watch(path, index, with_prefecture(spec, entries, f"{path}: watches[{index}]"))
        for index, spec in enumerate(parsed.watches)
    ]
    for index, target in enumerate(parsed.notify):
        for watch_id in target.watches or ():
            if watch_id not in seen:
                raise ConfigError(f"{path}: notify[{index}].watches: no watch with id {watch_id!r}")
    return Catalog(
        path=path,
        settings=MappingProxyType(parsed.settings),
        defaults=parsed.defaults,
        watches=tuple(watches),
        schedules=MappingProxyType({s.id: s.schedule for s in parsed.watches}),
        notify=parsed.notify,
        prefecture_schedules=MappingProxyType(
            {s.id: entries[s.prefecture].schedule for s in parsed.watches if s.prefecture}
        ),
        disabled=frozenset(s.id for s in parsed.watches if not s.enabled),
    )


def unique_ids(path: Path, field: str, ids: Sequence[str]) -> set[str]:
    """The ids, or a ConfigError naming the first one given twice in field (`watches`, `demarches`)."""
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise ConfigError(f"{path}: {field}[{index}].id: duplicate id {value!r}")
        seen.add(value)
    return seen


def to_watch(path: Path, index: int, spec: WatchSpec) -> Watch:
    where = f"{path}: watches[{index}]"
    if spec.url is None:
        raise ConfigError(f"{where}.url: Field required (or name a prefectures/ entry with prefecture:)")
    name, options = platform_options(where, spec.url, spec.platform, spec.options)
    return Watch(
        id=spec.id,
        url=spec.url,
        platform=name,
        label=spec.label,
        options=MappingProxyType(options.model_dump(exclude_none=True)),
        assist=spec.assist,
    )


def platform_options(where: str, url: str, platform: str | None, options: dict[str, Any]) -> tuple[str, BaseModel]:
    """The platform named (or recognised from url) and options validated by its model; errors name where."""
    name = platform or recognise(url)
    if name is None:
        raise ConfigError(f"{where}.platform: cannot recognise the platform from the URL; set one of: {known()}")
    try:
        return name, get_platform(name).Options.model_validate(options)
    except ConfigError as exc:
        raise ConfigError(f"{where}.platform: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"{where}.{describe(exc, root='options')}") from None


# pydantic's words for the shapes YAML users know as lists and mappings
PLAIN_MESSAGES = {
    "extra_forbidden": "unknown key",
    "tuple_type": "expected a list (items starting with '- ')",
    "list_type": "expected a list (items starting with '- ')",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
}


def describe(exc: ValidationError, *, root: str = "") -> str:
    """The first validation error as 'field.path: message' (the path under root when given)."""
    err = exc.errors()[0]
    loc = _location((root, *err["loc"]) if root else err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    message = PLAIN_MESSAGES.get(err["type"], message)
    return f"{loc}: {message}" if loc else message


def _location(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
