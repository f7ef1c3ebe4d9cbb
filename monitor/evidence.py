"""Evidence files: a screenshot, a copy stamped with date, time and URL, the HTML; hashed, never overwritten."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from monitor.domain import PARIS, EvidenceFile, Status, Watch
from monitor.fonts import font_path

BANNER_BG = (20, 33, 61)
BANNER_FG = (255, 255, 255)
BANNER_ACCENT = (255, 210, 90)
FONT_SIZE = 17
PADDING = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """What the browser gave us for one attempt."""

    screenshot: bytes | None  # PNG; None when the browser could not take one
    html: str
    captcha: bytes | None = None  # PNG of the captcha page a person answered (assisted checks only)


def paris_stamp(moment: datetime) -> str:
    """'30/11/2026 à 08:15:03 (Europe/Paris, UTC+01:00)': how people and courts read the time."""
    local = moment.astimezone(PARIS)
    offset = local.strftime("%z")
    return f"{local:%d/%m/%Y à %H:%M:%S} (heure de Paris, UTC{offset[:3]}:{offset[3:]})"


def stamp_lines(watch: Watch, checked_at: datetime, url: str, status: Status) -> list[str]:
    return [
        f"Tentative du {paris_stamp(checked_at)}",
        f"URL : {url}",
        f"Démarche : {watch.title}   ·   Résultat constaté : {status.value}   ·   rdv-monitor",
    ]


def stamp(png: bytes, lines: Sequence[str]) -> bytes:
    """The screenshot with a banner on top carrying the given lines (wrapped to the image width)."""
    shot = Image.open(io.BytesIO(png)).convert("RGB")
    font = _font(FONT_SIZE)
    chars = max(40, int(shot.width / (FONT_SIZE * 0.55)))
    wrapped = [part for line in lines for part in textwrap.wrap(line, chars, break_long_words=True)]
    line_height = FONT_SIZE + 6
    height = PADDING * 2 + line_height * len(wrapped)
    out = Image.new("RGB", (shot.width, shot.height + height), BANNER_BG)
    draw = ImageDraw.Draw(out)
    for index, line in enumerate(wrapped):
        fill = BANNER_ACCENT if index == 0 else BANNER_FG
        draw.text((PADDING, PADDING + index * line_height), line, font=font, fill=fill)
    out.paste(shot, (0, height))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)


def blank_png(width: int = 1280, height: int = 200) -> bytes:
    """A plain image standing in when no screenshot could be taken (the stamp then says why)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (240, 240, 240)).save(buffer, format="PNG")
    return buffer.getvalue()


class EvidenceStore:
    """Writes evidence under <data>/evidence/<watch>/<date>/; paths returned are relative to <data>."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def write(
        self, watch: Watch, checked_at: datetime, url: str, status: Status, capture: Capture
    ) -> tuple[EvidenceFile, ...]:
        """Write the files of an attempt (three, four when assisted); each is fsynced before this returns."""
        local = checked_at.astimezone(PARIS)
        folder = Path("evidence") / watch.id / f"{local:%Y-%m-%d}"
        stem = f"{local:%H%M%S}-{secrets.token_hex(4)}"
        raw = capture.screenshot or blank_png()
        stamped = stamp(raw, stamp_lines(watch, checked_at, url, status))
        files = (
            self._put(folder / f"{stem}-screenshot.png", "screenshot", raw),
            self._put(folder / f"{stem}-stamped.png", "stamped", stamped),
            self._put(folder / f"{stem}-page.html", "html", capture.html.encode("utf-8")),
        )
        if capture.captcha is None:
            return files
        return (*files, self._put(folder / f"{stem}-captcha.png", "captcha", capture.captcha))

    def _put(self, relative: Path, kind: str, data: bytes) -> EvidenceFile:
        write_new(self.data_dir / relative, data)
        return EvidenceFile(kind=kind, path=relative.as_posix(), sha256=sha256(data), size=len(data))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_new(path: Path, data: bytes) -> None:
    """Write data to path atomically; refuse to replace an existing file (evidence is never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with temp.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temp, path)  # fails if path exists, unlike rename
    finally:
        temp.unlink()
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
