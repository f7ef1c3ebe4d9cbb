"""Pièce n° 2, the numbered series of stamped captures, split into PDF parts under the upload size limit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from monitor.proof import names
from monitor.proof import wording as fr
from monitor.proof.imagepdf import ImagePdf, read_png
from monitor.proof.manifest import Entry

# Télérecours takes at most 32 MB per file; keep a margin below 32,000,000 bytes.
PART_LIMIT = 31_000_000


def caption(entry: Entry, total: int) -> list[str]:
    """The lines printed above a capture: which pièce and capture, when, what, and the image's hash."""
    status = f"{fr.status_fr(entry.status)} ({entry.status})"
    if entry.capture:
        file_line = f"Fichier {entry.capture} – SHA-256 {entry.file_hash('stamped')}"
    else:
        file_line = f"Capture non jointe : {entry.note or 'absente'}"
    return [
        f"Pièce n° 2 – captures d’écran horodatées – capture {fr.number(entry.n)} sur {fr.number(total)}",
        f"Tentative du {fr.moment(entry.checked_at)} – résultat : {status} – chaîne n° {entry.seq}",
        file_line,
    ]


class CaptureSeries:
    """Writes the capture pages into `02-captures-partie-N.pdf` files in a folder, opening a new part when full."""

    def __init__(self, folder: Path, *, limit: int = PART_LIMIT) -> None:
        self.folder = folder
        self.limit = limit
        self.parts: list[Path] = []
        self._handle: BinaryIO | None = None
        self._pdf: ImagePdf | None = None

    def add(self, png: bytes | None, lines: Sequence[str]) -> None:
        image = read_png(png) if png is not None else None
        pdf = self._pdf
        if pdf is None or (pdf.pages and pdf.projected_size(image) > self.limit):
            pdf = self._next_part()
        pdf.add(image, lines)

    def close(self) -> list[Path]:
        """Finish the last part; the parts in order."""
        self._finish()
        return list(self.parts)

    def _next_part(self) -> ImagePdf:
        self._finish()
        path = self.folder / names.captures_part(len(self.parts) + 1)
        self.parts.append(path)
        self._handle = path.open("wb")
        self._pdf = ImagePdf(self._handle, title=f"Pièce n° 2 – captures d’écran, partie {len(self.parts)}")
        return self._pdf

    def _finish(self) -> None:
        if self._pdf is not None and self._handle is not None:
            self._pdf.close()
            self._handle.close()
        self._pdf = self._handle = None
