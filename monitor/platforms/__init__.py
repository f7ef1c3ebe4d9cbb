"""The explicit registry of booking platforms, and recognition of a platform from a URL."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from monitor.errors import ConfigError
from monitor.platforms.base import Platform
from monitor.platforms.ezbooking import EzBooking
from monitor.platforms.page import Page
from monitor.platforms.rdv_prefecture import RdvPrefecture
from monitor.platforms.rdv_service_public import RdvServicePublic

PLATFORMS: Final = MappingProxyType({p.name: p for p in (EzBooking, RdvPrefecture, RdvServicePublic, Page)})


def known() -> str:
    return ", ".join(sorted(PLATFORMS))


def get_platform(name: str) -> Platform:
    """The adapter registered under name; an unknown name lists the known ones."""
    try:
        return PLATFORMS[name]()
    except KeyError:
        raise ConfigError(f"unknown platform {name!r} (known: {known()})") from None


def recognise(url: str) -> str | None:
    """The platform whose URL shape matches url (path and query, any host), or None."""
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    for name, platform in PLATFORMS.items():
        if any(shape.search(target) for shape in platform.url_shapes):
            return name
    return None
