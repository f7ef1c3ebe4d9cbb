"""A minimal streaming PDF writer for image pages: one A4 page per capture (sliced when very tall).

PNG data is passed through untouched (the PDF Flate filter with the PNG predictor reads IDAT as is), so
a capture costs no decoding or re-compression, pages go straight to the output and memory stays at one
image. reportlab would decode and re-compress every image and hold the whole document until saved.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PAGE_W, PAGE_H = 595.28, 841.89  # A4 portrait, points
MARGIN = 28.0
FONT_SIZE = 8.0
LINE = 10.0
CAPTION_LINES = 4  # room reserved on every page: up to three caption lines plus "(suite, page n)"
PAGE_OVERHEAD = 900  # bytes of page, content and image dictionaries, caption text, xref entries


@dataclass(frozen=True, slots=True)
class Png:
    """A PNG's pixel data ready for a PDF image: 8-bit gray or RGB, not interlaced, IDAT concatenated."""

    width: int
    height: int
    colors: int  # 1 gray, 3 RGB
    data: bytes


def read_png(data: bytes) -> Png:
    """Parse a PNG for pass-through; other PNG kinds (palette, alpha, 16-bit, interlaced) are converted."""
    header, idat = _chunks(data)
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth == 8 and color_type in (0, 2) and interlace == 0:
        return Png(width=width, height=height, colors=1 if color_type == 0 else 3, data=idat)
    return read_png(_as_rgb_png(data))


def _chunks(data: bytes) -> tuple[bytes, bytes]:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    pos, header, idat = len(PNG_SIGNATURE), b"", []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if len(header) != 13 or not idat:
        raise ValueError("truncated PNG file")
    return header, b"".join(idat)


def _as_rgb_png(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_text(text: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252) encoding, which covers French typography."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def info_text(text: str) -> bytes:
    """A PDF text string for the document information (UTF-16 with its byte order mark)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


class ImagePdf:
    """Writes pages to a binary stream as they come; `close()` writes the page tree and the cross-reference."""

    def __init__(self, out: BinaryIO, *, title: str = "") -> None:
        self.out = out
        self.written = 0
        self.offsets: dict[int, int] = {}
        self.pages: list[int] = []
        self.next_number = 5  # 1 catalog, 2 page tree, 3 font, 4 info
        self._put(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
        self._object(3, font)
        self._object(4, b"<< /Producer (rdv-monitor) /Title " + info_text(title) + b" >>")

    def projected_size(self, png: Png | None) -> int:
        """The file size if this image were added and the file closed now (to split parts under a limit)."""
        pages = self._slices(png) if png is not None else 1
        extra = (len(png.data) if png is not None else 0) + PAGE_OVERHEAD * pages
        return self.written + extra + self._closing_cost(len(self.pages) + pages)

    def add(self, png: Png | None, caption: Sequence[str]) -> None:
        """One capture: its caption on top of every page, the image scaled to the page width."""
        if png is None:
            self._page(_caption_ops(caption), None)
            return
        image = self._image(png)
        scale, area_top, area_h = _layout(png)
        for index in range(self._slices(png)):
            lines = [*caption, f"(suite, page {index + 1})"] if index else list(caption)
            ops = _caption_ops(lines) + _image_ops(png, scale, area_top, area_h, index)
            self._page(ops, image)

    def close(self) -> None:
        kids = b" ".join(b"%d 0 R" % number for number in self.pages)
        self._object(2, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(self.pages))
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        start = self.written
        size = self.next_number
        rows = [b"0000000000 65535 f \n"] + [b"%010d 00000 n \n" % self.offsets[n] for n in range(1, size)]
        self._put(b"xref\n0 %d\n" % size + b"".join(rows))
        self._put(b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, start))

    def _slices(self, png: Png) -> int:
        scale, _, area_h = _layout(png)
        return max(1, math.ceil(png.height * scale / area_h - 0.02))

    def _closing_cost(self, pages: int) -> int:
        return 20 * (self.next_number + 3 * pages) + 12 * pages + 300

    def _image(self, png: Png) -> int:
        space = b"/DeviceGray" if png.colors == 1 else b"/DeviceRGB"
        params = b"<< /Predictor 15 /Colors %d /BitsPerComponent 8 /Columns %d >>" % (png.colors, png.width)
        head = b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8" % (
            png.width,
            png.height,
            space,
        )
        return self._stream(head + b" /Filter /FlateDecode /DecodeParms " + params, png.data)

    def _page(self, ops: bytes, image: int | None) -> None:
        content = self._stream(b"<< /Filter /FlateDecode", zlib.compress(ops))
        xobject = b" /XObject << /Im %d 0 R >>" % image if image is not None else b""
        page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R " % (PAGE_W, PAGE_H, content)
        number = self._new(page + b"/Resources << /Font << /F1 3 0 R >>" + xobject + b" >> >>")
        self.pages.append(number)

    def _stream(self, head: bytes, data: bytes) -> int:
        number = self.next_number
        self.next_number += 1
        self.offsets[number] = self.written
        self._put(b"%d 0 obj\n%s /Length %d >>\nstream\n" % (number, head, len(data)))
        self._put(data)
        self._put(b"\nendstream\nendobj\n")
        return number

    def _new(self, body: bytes) -> int:
        number = self.next_number
        self.next_number += 1
        self._object(number, body)
        return number

    def _object(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.written
        self._put(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _put(self, data: bytes) -> None:
        self.out.write(data)
        self.written += len(data)


def _layout(png: Png) -> tuple[float, float, float]:
    """Scale (points per pixel), top and height of the image area under the caption."""
    width = PAGE_W - 2 * MARGIN
    scale = min(width / png.width, 1.0)
    area_top = PAGE_H - MARGIN - LINE * CAPTION_LINES - 4
    return scale, area_top, area_top - MARGIN


def _caption_ops(lines: Sequence[str]) -> bytes:
    ops = [b"BT /F1 %.1f Tf %.1f TL %.2f %.2f Td" % (FONT_SIZE, LINE, MARGIN, PAGE_H - MARGIN - FONT_SIZE)]
    ops += [pdf_text(line) + b" Tj T*" for line in lines]
    return b" ".join(ops) + b" ET\n"


def _image_ops(png: Png, scale: float, area_top: float, area_h: float, index: int) -> bytes:
    """Draw the image's index-th slice: clip to the area, shift the image up by the slices already shown."""
    w, h = png.width * scale, png.height * scale
    bottom = area_top + index * area_h - h
    clip = b"%.2f %.2f %.2f %.2f re W n" % (MARGIN, area_top - area_h, w, area_h)
    return b"q %s %.4f 0 0 %.4f %.2f %.2f cm /Im Do Q\n" % (clip, w, h, MARGIN, bottom)
