"""Fonts for the journal: DejaVu (or another installed TTF) so French typography prints; Helvetica otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from monitor.fonts import font_path

LATIN1_STANDINS = str.maketrans(
    {"’": "'", "‘": "'", "–": "-", "—": "-", "…": "...", "œ": "oe", "Œ": "OE", "€": "EUR", "\u202f": " ", "·": "-"}
)


@dataclass(frozen=True, slots=True)
class Fonts:
    regular: str
    bold: str
    unicode: bool

    def safe(self, text: str) -> str:
        """Text the font can print: unchanged with a TTF, Latin-1 stand-ins with the built-in Helvetica."""
        return text if self.unicode else latin1(text)


def latin1(text: str) -> str:
    """Text a built-in PDF font (Helvetica, Courier) can print: ’ – œ € and the like replaced."""
    return text.translate(LATIN1_STANDINS).encode("latin-1", errors="replace").decode("latin-1")


@cache
def register() -> Fonts:
    """Register the TTF once per process (reportlab keeps a global font registry)."""
    regular, bold = font_path(), font_path(bold=True)
    if regular is None:
        return Fonts("Helvetica", "Helvetica-Bold", unicode=False)
    pdfmetrics.registerFont(TTFont("RdvSans", str(regular)))
    pdfmetrics.registerFont(TTFont("RdvSans-Bold", str(bold or regular)))
    for italic in (0, 1):
        addMapping("RdvSans", 0, italic, "RdvSans")
        addMapping("RdvSans", 1, italic, "RdvSans-Bold")
    return Fonts("RdvSans", "RdvSans-Bold", unicode=True)
