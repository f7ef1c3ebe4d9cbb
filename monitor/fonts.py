"""Locate a Unicode TrueType font (French text needs é, ’, «, €) for stamps and PDF reports."""

from __future__ import annotations

from functools import cache
from pathlib import Path

CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
)
BOLD_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


@cache
def font_path(bold: bool = False) -> Path | None:
    """The first installed font of the candidates, or None (callers then fall back to a built-in font)."""
    for candidate in BOLD_CANDIDATES if bold else CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    return None
