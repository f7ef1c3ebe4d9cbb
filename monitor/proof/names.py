"""Names of the files inside a proof archive: short, ASCII, no spaces, one dot, pièce number first.

Court upload portals (Télérecours) reject or mangle anything else; the rule is checked by `is_court_safe`.
"""

from __future__ import annotations

import re
from datetime import datetime

from monitor.domain import PARIS

JOURNAL = "01-journal-des-tentatives.pdf"
CAPTURES_DIR = "captures/"
MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
SUMS = "empreintes-sha256.txt"
README = "LISEZ-MOI.txt"
MAX_NAME = 60
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.[a-z0-9]{2,4}")
STATUS_SLUGS = {
    "no_slot": "no-slot",
    "slots_available": "slots",
    "captcha": "captcha",
    "blocked": "blocked",
    "maintenance": "maintenance",
    "error": "error",
    "unknown": "unknown",
}


def captures_part(number: int) -> str:
    """The n-th PDF of the numbered capture series (pièce 2, split to stay under the upload limit)."""
    return f"02-captures-partie-{number}.pdf"


def capture_image(index: int, total: int, checked_at: datetime, status: str) -> str:
    """`captures/0001-2026-11-30-0815-no-slot.png`: number first, Paris date and time, status."""
    width = max(4, len(str(total)))
    local = checked_at.astimezone(PARIS)
    slug = STATUS_SLUGS.get(status, "other")
    return f"{CAPTURES_DIR}{index:0{width}d}-{local:%Y-%m-%d-%H%M}-{slug}.png"


def is_court_safe(name: str) -> bool:
    """True when the file's own name (folder excluded) is short, ASCII, without spaces or extra dots."""
    base = name.rsplit("/", 1)[-1]
    return len(base) <= MAX_NAME and SAFE.fullmatch(base) is not None


def starts_with_number(name: str) -> bool:
    return name.rsplit("/", 1)[-1][:2].isdigit()
