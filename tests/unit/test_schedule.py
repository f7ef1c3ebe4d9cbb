"""Schedule maths with a fixed clock and a fixed random source: no sleeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from monitor.catalog.schema import Schedule, Window
from monitor.domain import CheckResult, Status
from monitor.schedule import (
    DEFAULT_EVERY,
    PARIS,
    Last,
    Plan,
    active_windows,
    interval_at,
    last_from,
    make_plan,
    next_run,
)

MID = lambda: 0.5  # noqa: E731  (no jitter: the centre of the range)
LOW = lambda: 0.0  # noqa: E731
HIGH = lambda: 0.999999  # noqa: E731

# Monday 2026-03-02 07:50 in Paris (UTC+1 in winter)
MONDAY_0750 = datetime(2026, 3, 2, 7, 50, tzinfo=PARIS).astimezone(UTC)


def plan(**kw: object) -> Plan:
    values: dict[str, object] = {"every": 600.0, "jitter": 0.0, "floor": 60.0, "backoff_cap": 3600.0, **kw}
    return Plan(**values)  # type: ignore[arg-type]


def window(start: str, end: str, every: float, days: tuple[str, ...] = ("mon",)) -> Window:
    return Window.model_validate({"days": days, "start": start, "end": end, "every": every})


def result(status: Status, started: datetime, **details: object) -> CheckResult:
    return CheckResult(
        watch="w",
        status=status,
        reason="",
        started_at=started,
        checked_at=started + timedelta(seconds=2),
        final_url="http://x/",
        http_status=200,
        details=details,
    )


def gap(p: Plan, last: Last, now: datetime, rng=MID) -> float:  # type: ignore[no-untyped-def]
    return (next_run(p, last, now=now, rng=rng) - last.started_at).total_seconds()


def test_layers_merge_most_specific_first() -> None:
    watch = Schedule.model_validate({"every": "5m"})
    prefecture = Schedule.model_validate(
        {"jitter": "30s", "windows": [{"start": "08:00", "end": "09:00", "every": 60}]}
    )
    defaults = Schedule.model_validate({"every": "1h", "jitter": "2m", "windows": []})
    merged = make_plan(watch, None, prefecture, defaults, floor=60, backoff_cap=3600)
    assert (merged.every, merged.jitter, len(merged.windows)) == (300, 30, 1)
    assert make_plan(floor=60, backoff_cap=3600).every == DEFAULT_EVERY
    assert make_plan(floor=60, backoff_cap=3600).windows == ()


def test_regular_rhythm_start_to_start() -> None:
    last = Last(started_at=MONDAY_0750 - timedelta(hours=3))
    assert gap(plan(every=7200), last, now=MONDAY_0750 - timedelta(hours=2, minutes=30)) == 7200


def test_jitter_stays_within_half_its_width_each_side() -> None:
    p = plan(every=600, jitter=60)
    last = Last(started_at=MONDAY_0750 - timedelta(days=1))
    now = last.started_at
    assert gap(p, last, now, LOW) == 570
    assert gap(p, last, now, HIGH) == pytest.approx(630, abs=0.01)
    rng = random.Random(7).random
    gaps = {gap(p, last, now, rng) for _ in range(200)}
    assert min(gaps) >= 570
    assert max(gaps) < 630
    assert len(gaps) > 100  # not robot-regular


def test_default_jitter_is_a_tenth_and_never_more_than_half_the_interval() -> None:
    last = Last(started_at=MONDAY_0750 - timedelta(days=1))
    assert gap(plan(every=600, jitter=None), last, last.started_at, LOW) == 570
    assert gap(plan(every=100, jitter=1000, floor=0), last, last.started_at, LOW) == 75


def test_floor_applies_to_every_interval_and_window() -> None:
    p = plan(every=5, floor=60, windows=(window("07:00", "09:00", 1),))
    last = Last(started_at=MONDAY_0750)
    assert interval_at(p, MONDAY_0750) == 60
    assert gap(p, last, MONDAY_0750, LOW) == 60


def test_window_running_densifies() -> None:
    p = plan(every=900, windows=(window("08:00", "10:00", 60),))
    inside = MONDAY_0750 + timedelta(minutes=30)
    assert [w.every for w in active_windows(p, inside)] == [60]
    assert gap(p, Last(started_at=inside), inside) == 60


def test_window_only_on_its_days_and_hours() -> None:
    p = plan(every=900, windows=(window("08:00", "10:00", 60),))
    tuesday = MONDAY_0750 + timedelta(days=1, minutes=30)
    after_end = MONDAY_0750 + timedelta(hours=2, minutes=10)
    assert active_windows(p, tuesday) == []
    assert active_windows(p, after_end) == []
    assert interval_at(p, after_end) == 900


def test_a_window_opening_pulls_the_next_check_to_its_start() -> None:
    p = plan(every=900, windows=(window("08:00", "10:00", 60),))
    opening = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)
    assert next_run(p, Last(started_at=MONDAY_0750), now=MONDAY_0750, rng=LOW) == opening


def test_a_sparser_window_never_slows_the_watch() -> None:
    p = plan(every=300, windows=(window("08:00", "10:00", 3600),))
    inside = MONDAY_0750 + timedelta(minutes=30)
    assert gap(p, Last(started_at=inside), inside) == 300


def test_window_uses_paris_wall_time_across_dst() -> None:
    p = plan(every=900, windows=(window("08:00", "09:00", 60, days=("mon",)),))
    # 2026-03-30 is the Monday after the spring change: 08:30 Paris is 06:30 UTC (it was 07:30 UTC before)
    summer = datetime(2026, 3, 30, 6, 30, tzinfo=UTC)
    winter_same_utc = datetime(2026, 3, 23, 6, 30, tzinfo=UTC)
    assert interval_at(p, summer) == 60
    assert interval_at(p, winter_same_utc) == 900


def test_window_next_week_found_from_a_long_interval() -> None:
    p = plan(every=8 * 86400, floor=60, windows=(window("08:00", "09:00", 60, days=("wed",)),))
    wednesday = datetime(2026, 3, 4, 8, 0, tzinfo=PARIS)
    assert next_run(p, Last(started_at=MONDAY_0750), now=MONDAY_0750, rng=LOW) == wednesday


def test_backoff_is_exponential_with_a_cap() -> None:
    p = plan(every=600, backoff_cap=3600)
    gaps = [gap(p, Last(started_at=MONDAY_0750, failures=n), MONDAY_0750) for n in range(6)]
    assert gaps == [600, 1200, 2400, 3600, 3600, 3600]


def test_cap_never_shortens_a_long_interval() -> None:
    p = plan(every=7200, backoff_cap=3600)
    assert gap(p, Last(started_at=MONDAY_0750, failures=3), MONDAY_0750) == 7200


def test_backoff_ignores_window_openings() -> None:
    p = plan(every=900, windows=(window("08:00", "10:00", 60),))
    assert gap(p, Last(started_at=MONDAY_0750, failures=1), MONDAY_0750) == 1800


def test_retry_after_is_honoured_even_beyond_the_cap() -> None:
    p = plan(every=60, backoff_cap=600)
    assert gap(p, Last(started_at=MONDAY_0750, failures=1, retry_after=5000), MONDAY_0750) == 5000
    assert gap(p, Last(started_at=MONDAY_0750, failures=1, retry_after=10), MONDAY_0750) == 120
    assert gap(p, Last(started_at=MONDAY_0750, failures=1, retry_after=10**9), MONDAY_0750) == 86400


def test_history_counts_the_failure_streak_and_resets_after_success() -> None:
    t = MONDAY_0750
    newest_first = [
        result(Status.BLOCKED, t, retry_after=120),
        result(Status.ERROR, t - timedelta(minutes=10)),
        result(Status.CAPTCHA, t - timedelta(minutes=20)),
        result(Status.NO_SLOT, t - timedelta(minutes=30)),
        result(Status.ERROR, t - timedelta(minutes=40)),
    ]
    assert last_from(newest_first) == Last(started_at=t, failures=3, retry_after=120.0)
    assert last_from([result(Status.NO_SLOT, t), *newest_first]) == Last(started_at=t, failures=0)
    assert last_from([result(Status.UNKNOWN, t)]) == Last(started_at=t, failures=0)
    assert last_from([]) is None


def test_retry_after_ignores_junk() -> None:
    assert last_from([result(Status.BLOCKED, MONDAY_0750, retry_after=None)]).retry_after is None  # type: ignore[union-attr]
    assert last_from([result(Status.BLOCKED, MONDAY_0750, retry_after="soon")]).retry_after is None  # type: ignore[union-attr]


def test_missed_runs_coalesce_into_one_soon_after_restart() -> None:
    p = plan(every=600, jitter=60)
    last = Last(started_at=MONDAY_0750 - timedelta(hours=5))  # 30 runs were missed
    assert next_run(p, last, now=MONDAY_0750, rng=LOW) == MONDAY_0750
    assert next_run(p, last, now=MONDAY_0750, rng=HIGH) < MONDAY_0750 + timedelta(seconds=60)


def test_no_burst_after_restart_keeps_the_rhythm() -> None:
    p = plan(every=600)
    last = Last(started_at=MONDAY_0750 - timedelta(seconds=30))
    assert next_run(p, last, now=MONDAY_0750, rng=MID) == last.started_at + timedelta(seconds=600)


def test_first_check_of_a_new_watch_is_spread_over_the_jitter() -> None:
    p = plan(every=600, jitter=60)
    assert next_run(p, None, now=MONDAY_0750, rng=LOW) == MONDAY_0750
    assert next_run(p, None, now=MONDAY_0750, rng=HIGH) < MONDAY_0750 + timedelta(seconds=60)


def test_a_last_check_in_the_future_does_not_push_the_schedule_away() -> None:
    p = plan(every=600)
    last = Last(started_at=MONDAY_0750 + timedelta(days=30))  # a clock that was wrong
    assert next_run(p, last, now=MONDAY_0750, rng=MID) == MONDAY_0750 + timedelta(seconds=600)


def test_window_bounds_are_validated_by_the_schema() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        window("10:00", "08:00", 60)
    assert window("08:00", "10:00", "1m").start == time(8, 0)  # type: ignore[arg-type]
