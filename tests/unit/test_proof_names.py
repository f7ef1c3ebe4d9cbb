"""Archive file names: what a court upload accepts (pièce number first, ASCII, no spaces, one dot, short)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.proof import names


def test_capture_names_are_numbered_dated_in_paris_and_say_the_outcome() -> None:
    winter = datetime(2026, 11, 30, 7, 15, 3, tzinfo=UTC)  # 08:15 in Paris (UTC+1)
    assert names.capture_image(1, 9000, winter, "no_slot") == "captures/0001-2026-11-30-0815-no-slot.png"
    summer = datetime(2026, 7, 1, 21, 59, tzinfo=UTC)  # 23:59 in Paris (UTC+2)
    assert names.capture_image(42, 120, summer, "slots_available") == "captures/0042-2026-07-01-2359-slots.png"


def test_numbers_widen_for_long_series_so_names_still_sort() -> None:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert names.capture_image(7, 12345, at, "error").startswith("captures/00007-")
    assert names.capture_image(7, 12345, at, "something_new").endswith("-other.png")


@pytest.mark.parametrize(
    "name",
    [
        names.JOURNAL,
        names.captures_part(1),
        names.captures_part(12),
        names.MANIFEST_JSON,
        names.MANIFEST_CSV,
        names.SUMS,
        names.README,
        "captures/0001-2026-11-30-0815-no-slot.png",
    ],
)
def test_every_name_the_archive_uses_is_court_safe(name: str) -> None:
    assert names.is_court_safe(name)


@pytest.mark.parametrize(
    "name",
    [
        "pièce 1.pdf",
        "01 journal.pdf",
        "01-journal.v2.pdf",
        "01-journal",
        "-01.pdf",
        "x" * 61 + ".pdf",
        "01-a\u00a0b.pdf",
    ],
)
def test_names_a_court_portal_rejects_are_not_safe(name: str) -> None:
    assert not names.is_court_safe(name)


def test_pieces_start_with_their_number() -> None:
    assert names.starts_with_number(names.JOURNAL)
    assert names.starts_with_number(names.captures_part(3))
    assert names.JOURNAL.startswith("01-")
    assert names.captures_part(3) == "02-captures-partie-3.pdf"
