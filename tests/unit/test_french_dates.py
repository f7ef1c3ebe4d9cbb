"""French dates and times as booking pages write them, read as aware UTC datetimes (Paris wall time)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from monitor.platforms.dates import first_moment, reference_day, slot_times

NOV_30 = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lundi 7 décembre 2026 09:00", datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),
        ("Lundi 7 DÉCEMBRE 2026 à 9h", datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),
        ("1er déc. 2026, 14 h 05", datetime(2026, 12, 1, 13, 5, tzinfo=UTC)),
        ("le 07/12/2026 à 09h30", datetime(2026, 12, 7, 8, 30, tzinfo=UTC)),
        ("mercredi 15 juillet 2026 de 10:00 à 10:15", datetime(2026, 7, 15, 8, 0, tzinfo=UTC)),  # summer time
        ("3 mars 2027 08:45", datetime(2027, 3, 3, 7, 45, tzinfo=UTC)),
        ("3 mai 2027 08:45", datetime(2027, 5, 3, 6, 45, tzinfo=UTC)),
        ("12 août 2026 11:00", datetime(2026, 8, 12, 9, 0, tzinfo=UTC)),
        ("12 aout 2026 11:00", datetime(2026, 8, 12, 9, 0, tzinfo=UTC)),
        ("lun.\u00a07\u00a0déc. à 09:00", datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),  # no year: the reference's
        ("mardi 5 janv. 10:00", datetime(2027, 1, 5, 9, 0, tzinfo=UTC)),  # no year, well past: next year's
    ],
)
def test_one_slot_time(text: str, expected: datetime) -> None:
    assert slot_times(text, reference=NOV_30) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "lundi 7 décembre 2026",  # a day is not a slot
        "31 février 2026 10:00",  # no such day
        "Bureau 12 : 9h-12h",
        "",
    ],
)
def test_no_slot_time(text: str) -> None:
    assert slot_times(text, reference=NOV_30) == []


def test_no_year_and_no_reference_is_no_time() -> None:
    assert slot_times("7 décembre à 09:00") == []


def test_several_times_in_order() -> None:
    found = slot_times("8 décembre 2026 10:00, 7 décembre 2026 09:00 et 07/12/2026 11:00")
    assert [t.hour for t in found] == [9, 8, 10]


def test_first_moment_is_a_day_or_a_time() -> None:
    assert first_moment("Prochaine disponibilité le lundi 14 décembre 2026") == "2026-12-14"
    assert first_moment("Prochaine disponibilité le lundi 14 décembre 2026 à 09h00") == "2026-12-14T08:00:00+00:00"
    assert first_moment("Prochaine disponibilité bientôt") is None


def test_reference_day_is_the_servers_date_in_paris() -> None:
    assert reference_day({"date": "Mon, 30 Nov 2026 23:30:00 GMT"}) == date(2026, 12, 1)
    assert reference_day({"date": "not a date"}) is None
    assert reference_day({}) is None
