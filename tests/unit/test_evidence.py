"""Evidence files: the stamp people and courts read, atomic write-once files, and their hashes."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from monitor.domain import Status, Watch
from monitor.evidence import (
    BANNER_BG,
    Capture,
    EvidenceStore,
    blank_png,
    paris_stamp,
    sha256,
    sha256_file,
    stamp,
    stamp_lines,
    write_new,
)

WATCH = Watch(id="paris-titre", url="https://pprdv.interieur.gouv.fr/booking/create/989", platform="ezbooking")
LABELLED = Watch(
    id="paris-titre",
    url="https://pprdv.interieur.gouv.fr/booking/create/989",
    platform="ezbooking",
    label="Remise de titre de séjour, Paris",
)
WINTER = datetime(2026, 11, 30, 7, 15, 3, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 6, 5, 0, tzinfo=UTC)
PAGE = "<html><body><form id='FormBookingCreate'>Il n’existe plus de plage horaire libre…</form></body></html>"


def png(width: int = 640, height: int = 300, colour: tuple[int, int, int] = (250, 250, 250)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def image(data: bytes) -> Image.Image:
    loaded = Image.open(io.BytesIO(data))
    loaded.load()
    return loaded


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (WINTER, "30/11/2026 à 08:15:03 (heure de Paris, UTC+01:00)"),
        (SUMMER, "01/07/2026 à 08:05:00 (heure de Paris, UTC+02:00)"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "01/01/2027 à 00:30:00 (heure de Paris, UTC+01:00)"),
    ],
)
def test_the_stamp_shows_paris_time_with_its_offset(moment: datetime, text: str) -> None:
    assert paris_stamp(moment) == text


def test_stamp_lines_carry_date_url_label_and_status() -> None:
    lines = stamp_lines(LABELLED, WINTER, LABELLED.url + "/2", Status.NO_SLOT)
    text = "\n".join(lines)
    assert "30/11/2026 à 08:15:03" in text
    assert "UTC+01:00" in text
    assert "URL : https://pprdv.interieur.gouv.fr/booking/create/989/2" in text
    assert "Remise de titre de séjour, Paris" in text
    assert "no_slot" in text


def test_the_stamp_falls_back_to_the_watch_id_without_a_label() -> None:
    assert "paris-titre" in "\n".join(stamp_lines(WATCH, WINTER, WATCH.url, Status.ERROR))


def test_a_stamped_copy_is_a_taller_png_with_the_screenshot_intact_below_the_banner() -> None:
    raw = png()
    stamped = image(stamp(raw, stamp_lines(LABELLED, WINTER, LABELLED.url, Status.NO_SLOT)))
    assert stamped.format == "PNG"
    assert stamped.width == 640
    assert stamped.height > 300
    banner = stamped.height - 300
    assert stamped.getpixel((2, 2)) == BANNER_BG
    assert stamped.crop((0, banner, 640, stamped.height)).tobytes() == image(raw).convert("RGB").tobytes()
    assert len(stamped.crop((0, 0, 640, banner)).getcolors(maxcolors=1 << 16) or ()) > 2  # text drawn on the banner


def test_a_long_url_wraps_and_makes_the_banner_taller() -> None:
    raw = png(width=400)
    short = image(stamp(raw, stamp_lines(WATCH, WINTER, WATCH.url, Status.NO_SLOT)))
    long_url = WATCH.url + "/4?" + "x=1&" * 60
    long = image(stamp(raw, stamp_lines(WATCH, WINTER, long_url, Status.NO_SLOT)))
    assert long.height > short.height


def test_blank_png_stands_in_for_a_missing_screenshot() -> None:
    blank = image(blank_png())
    assert (blank.format, blank.size) == ("PNG", (1280, 200))


def test_write_new_writes_atomically_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.png"
    write_new(target, b"evidence")
    assert target.read_bytes() == b"evidence"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.png"]


def test_write_new_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "file.html"
    write_new(target, b"first")
    with pytest.raises(FileExistsError):
        write_new(target, b"second")
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.html"]


def test_sha256_helpers_agree_with_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    (tmp_path / "f").write_bytes(data)
    assert sha256(data) == sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_the_store_writes_screenshot_stamped_copy_and_html_with_their_hashes(tmp_path: Path) -> None:
    files = EvidenceStore(tmp_path).write(
        LABELLED, WINTER, LABELLED.url + "/2", Status.NO_SLOT, Capture(screenshot=png(), html=PAGE)
    )
    assert [f.kind for f in files] == ["screenshot", "stamped", "html"]
    for f in files:
        assert f.path.startswith("evidence/paris-titre/2026-11-30/081503-")
        on_disk = (tmp_path / f.path).read_bytes()
        assert (f.sha256, f.size) == (hashlib.sha256(on_disk).hexdigest(), len(on_disk))
    shot, stamped, html = ((tmp_path / f.path).read_bytes() for f in files)
    assert shot == png()
    assert image(stamped).height > image(shot).height
    assert html.decode("utf-8") == PAGE


def test_the_folder_is_the_paris_date(tmp_path: Path) -> None:
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    files = EvidenceStore(tmp_path).write(WATCH, late, WATCH.url, Status.ERROR, Capture(screenshot=None, html=""))
    assert all(f.path.startswith("evidence/paris-titre/2027-01-01/003000-") for f in files)


def test_an_attempt_without_screenshot_still_gets_a_stamped_image(tmp_path: Path) -> None:
    files = EvidenceStore(tmp_path).write(WATCH, WINTER, WATCH.url, Status.ERROR, Capture(screenshot=None, html=""))
    shot, stamped, html = ((tmp_path / f.path).read_bytes() for f in files)
    assert shot == blank_png()
    assert image(stamped).height > image(shot).height
    assert html == b""


def test_two_attempts_in_the_same_second_never_share_a_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    first = store.write(WATCH, WINTER, WATCH.url, Status.NO_SLOT, Capture(screenshot=png(), html="a"))
    second = store.write(WATCH, WINTER, WATCH.url, Status.NO_SLOT, Capture(screenshot=png(), html="b"))
    assert not {f.path for f in first} & {f.path for f in second}
    assert (tmp_path / first[2].path).read_text() == "a"
