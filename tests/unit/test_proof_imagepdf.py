"""The capture PDFs: PNG pages passed through, readable by a PDF library, split under a size limit."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from monitor.proof.captures import CaptureSeries
from monitor.proof.imagepdf import ImagePdf, read_png
from tests.unit.proof_history import page_png


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128 if mode in ("L", "P") else (30, 90, 200, 255)[: len(mode)]).save(out, format="PNG")
    return out.getvalue()


def write(tmp_path: Path, pages: list[tuple[bytes | None, list[str]]]) -> pypdf.PdfReader:
    path = tmp_path / "series.pdf"
    with path.open("wb") as handle:
        pdf = ImagePdf(handle, title="Pièce n° 2 – captures")
        for data, caption in pages:
            pdf.add(read_png(data) if data else None, caption)
        pdf.close()
    return pypdf.PdfReader(path)


def test_a_page_carries_its_caption_in_french_and_the_image_unchanged(tmp_path: Path) -> None:
    shot = page_png("Il n’existe plus de plage horaire libre")
    reader = write(tmp_path, [(shot, ["Pièce n° 2 – capture 1 sur 1", "Tentative du 30/11/2026 à 08:15:03"])])
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Pièce n° 2 – capture 1 sur 1" in text
    assert "30/11/2026 à 08:15:03" in text
    [image] = reader.pages[0].images
    original = Image.open(io.BytesIO(shot)).convert("RGB")
    assert image.image.size == original.size
    assert image.image.convert("RGB").tobytes() == original.tobytes()  # lossless: the same pixels
    assert reader.metadata is not None
    assert reader.metadata.title == "Pièce n° 2 – captures"


def test_a_very_tall_capture_continues_on_the_next_pages(tmp_path: Path) -> None:
    reader = write(tmp_path, [(png((1280, 6000)), ["capture 1"]), (png((1280, 900)), ["capture 2"])])
    assert len(reader.pages) > 3
    assert "(suite, page 2)" in reader.pages[1].extract_text()
    assert "capture 2" in reader.pages[-1].extract_text()


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "LA"])
def test_other_png_kinds_are_converted_and_still_embed(tmp_path: Path, mode: str) -> None:
    reader = write(tmp_path, [(png((200, 100), mode), ["x"])])
    assert reader.pages[0].images[0].image.size == (200, 100)


def test_a_missing_capture_still_gets_its_numbered_page(tmp_path: Path) -> None:
    reader = write(tmp_path, [(None, ["capture 3 sur 3", "Capture non jointe : fichier absent"])])
    assert "Capture non jointe" in reader.pages[0].extract_text()


def test_not_a_png_is_refused() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        read_png(b"GIF89a....")


def test_the_size_projection_is_never_below_the_real_size(tmp_path: Path) -> None:
    out = io.BytesIO()
    pdf = ImagePdf(out)
    projected = 0
    for size in ((1280, 900), (1280, 3000), (640, 200)):
        image = read_png(png(size))
        projected = pdf.projected_size(image)
        pdf.add(image, ["Pièce n° 2 – une légende de longueur ordinaire", "deuxième ligne", "SHA-256 " + "a" * 64])
    pdf.close()
    assert len(out.getvalue()) <= projected


def test_the_series_opens_a_new_part_before_a_part_passes_the_limit(tmp_path: Path) -> None:
    shots = [page_png(f"capture {i}", size=(900, 700)) for i in range(12)]
    limit = 3 * len(shots[0]) + 6000
    series = CaptureSeries(tmp_path, limit=limit)
    for i, shot in enumerate(shots):
        series.add(shot, [f"capture {i + 1} sur {len(shots)}"])
    parts = series.close()
    assert [p.name for p in parts][:2] == ["02-captures-partie-1.pdf", "02-captures-partie-2.pdf"]
    assert len(parts) >= 3
    assert all(p.stat().st_size <= limit for p in parts)
    pages = [page for p in parts for page in pypdf.PdfReader(p).pages]
    assert len(pages) == len(shots)
    assert "capture 12 sur 12" in pages[-1].extract_text()
