"""Alert policy (pure): which attempts fire which events, who hears of them, and what the texts say."""

from __future__ import annotations

import ast
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import alerts, digest, messages
from monitor.alerts import Event, WatchState, events_for, state_from, transitions, wants
from monitor.catalog.schema import NotifySpec
from monitor.domain import CheckResult, EvidenceFile, Status, Watch

S = Status
E = Event


def fired(*statuses: Status, n: int = 3) -> list[tuple[Event, ...]]:
    return transitions(statuses, unhealthy_after=n)


def test_slots_fire_once_when_they_appear_after_none() -> None:
    assert fired(S.NO_SLOT, S.SLOTS_AVAILABLE, S.SLOTS_AVAILABLE, S.NO_SLOT, S.NO_SLOT, S.SLOTS_AVAILABLE) == [
        (),
        (E.SLOTS,),
        (),
        (E.SLOTS_GONE,),
        (),
        (E.SLOTS,),
    ]


def test_first_attempt_with_slots_is_news() -> None:
    assert fired(S.SLOTS_AVAILABLE) == [(E.SLOTS,)]


def test_a_failure_between_two_slot_pages_is_not_a_new_release() -> None:
    history = (S.SLOTS_AVAILABLE, S.ERROR, S.CAPTCHA, S.MAINTENANCE, S.SLOTS_AVAILABLE, S.UNKNOWN, S.NO_SLOT)
    assert fired(*history) == [(E.SLOTS,), (), (E.CAPTCHA,), (), (), (), (E.SLOTS_GONE,)]


def test_unhealthy_after_n_failures_then_recovered_once() -> None:
    history = (S.NO_SLOT, S.ERROR, S.UNKNOWN, S.BLOCKED, S.ERROR, S.ERROR, S.NO_SLOT, S.NO_SLOT)
    assert fired(*history) == [(), (), (), (E.UNHEALTHY,), (), (), (E.RECOVERED,), ()]


def test_a_short_failing_streak_stays_quiet() -> None:
    assert fired(S.ERROR, S.ERROR, S.NO_SLOT, S.ERROR, S.NO_SLOT) == [(), (), (), (), ()]


def test_recovery_can_come_with_slots() -> None:
    assert fired(S.NO_SLOT, S.ERROR, S.SLOTS_AVAILABLE, n=1) == [(), (E.UNHEALTHY,), (E.SLOTS, E.RECOVERED)]


def test_captcha_fires_on_entry_only() -> None:
    history = (S.CAPTCHA, S.CAPTCHA, S.CAPTCHA, S.NO_SLOT, S.CAPTCHA)
    assert fired(*history) == [(E.CAPTCHA,), (), (), (), (E.CAPTCHA,)]


def test_captcha_and_maintenance_are_not_failures() -> None:
    history = (S.ERROR, S.ERROR, S.CAPTCHA, S.ERROR, S.MAINTENANCE, S.ERROR)
    assert fired(*history) == [(), (), (E.CAPTCHA,), (), (), ()]


@pytest.mark.parametrize("seed", range(20))
def test_window_of_n_plus_last_answer_gives_the_same_events_as_the_whole_history(seed: int) -> None:
    """What storage reads (the N previous statuses and the last answer) is enough to decide."""
    rng = random.Random(seed)
    n = rng.randint(1, 4)
    history = [rng.choice(list(Status)) for _ in range(60)]
    expected = transitions(history, unhealthy_after=n)
    for index, status in enumerate(history):
        past = history[:index]
        answers = [s for s in past if s in alerts.ANSWERS]
        state = state_from(past[-n:], answers[-1] if answers else None)
        assert events_for(state, status, unhealthy_after=n) == expected[index]


def test_state_after_counts_the_failing_streak() -> None:
    state = WatchState().after(S.ERROR).after(S.BLOCKED)
    assert state.failures == 2
    assert state.after(S.NO_SLOT) == WatchState(last=S.NO_SLOT, last_answer=S.NO_SLOT, failures=0)


def test_targets_filter_events_and_watches() -> None:
    everything = NotifySpec(url="json://h")
    some = NotifySpec(url="json://h", watches=("a",), events=("slots", "digest"))
    assert wants(everything, E.SLOTS, "b")
    assert not wants(everything, E.SLOTS_GONE, "b")  # not among the default events
    assert not wants(everything, E.DIGEST, None)
    assert wants(some, E.SLOTS, "a")
    assert not wants(some, E.SLOTS, "b")
    assert not wants(some, E.CAPTCHA, "a")
    assert wants(some, E.DIGEST, None)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://127.0.0.1:8080/hook?token=S3cretT0ken", "json://127.0.0.1/"),
        ("ntfy://my-secret-topic", "ntfy:///"),
        ("tgram://123456:ABCDEFSECRET/987654", "tgram:///"),
        ("pover://USERKEY@APPTOKEN", "pover:///"),
        ("ntfys://user:pass@ntfy.example.org/topic", "ntfys://ntfy.example.org/"),
    ],
)
def test_redacted_urls_keep_scheme_and_real_hosts_only(url: str, shown: str) -> None:
    text = alerts.redact(url)
    assert text.startswith(shown)
    for secret in ("S3cretT0ken", "my-secret-topic", "ABCDEFSECRET", "USERKEY", "APPTOKEN", "pass", "987654"):
        assert secret not in text
    assert alerts.fingerprint(url)[:8] in text


def test_scrub_masks_url_pieces_in_error_texts() -> None:
    url = "tgram://123456:ABCDEFSECRET/987654"
    text = alerts.scrub("POST https://api.telegram.org/bot123456:ABCDEFSECRET/sendMessage failed", url)
    assert "ABCDEFSECRET" not in text
    assert "123456" not in text
    assert "api.telegram.org" in text


def test_last_closed_week_is_monday_to_sunday_in_paris() -> None:
    # Monday 30 November 2026, 00:30 in Paris is still Sunday 29 in UTC.
    period = digest.last_closed(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "weekly")
    assert (period.key, str(period.first), str(period.last)) == ("2026-W48", "2026-11-23", "2026-11-29")
    assert period.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert digest.next_boundary(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "weekly") == datetime(
        2026, 12, 6, 23, 0, tzinfo=UTC
    )


def test_last_closed_day_across_the_autumn_clock_change() -> None:
    period = digest.last_closed(datetime(2026, 10, 26, 12, 0, tzinfo=UTC), "daily")
    assert period.key == "2026-10-25"
    assert (period.end - period.start).total_seconds() == 25 * 3600


def test_coverage_counts_paris_days_and_iso_weeks() -> None:
    buckets = [
        (datetime(2026, 11, 29, 22, 0, tzinfo=UTC), "no_slot", 5),  # Sunday 23:00 in Paris
        (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "no_slot", 4),  # Monday 00:00 in Paris: a new week
        (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), "error", 1),
    ]
    cov = digest.coverage(buckets)
    assert (cov.attempts, cov.days, cov.weeks, str(cov.first)) == (10, 2, 2, "2026-11-29")
    assert dict(cov.outcomes) == {"no_slot": 9, "error": 1}


def make_result(status: Status, slots: tuple[datetime, ...] = ()) -> CheckResult:
    moment = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)
    files = (
        EvidenceFile(kind="screenshot", path="evidence/w/raw.png", sha256="0" * 64, size=1),
        EvidenceFile(kind="stamped", path="evidence/w/stamped.png", sha256="1" * 64, size=1),
    )
    return CheckResult(
        watch="w",
        status=status,
        reason="r",
        started_at=moment,
        checked_at=moment,
        final_url="https://x.test/",
        http_status=200,
        slots=slots,
        files=files,
    )


WATCH = Watch(id="w", url="https://pprdv.example.test/booking/create/989", platform="ezbooking", label="Remise")


def test_slots_message_is_french_with_paris_dates_link_and_stamped_screenshot() -> None:
    slot = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    message = messages.for_event(
        E.SLOTS, WATCH, make_result(S.SLOTS_AVAILABLE, (slot,)), dashboard="http://d", failures=0
    )
    assert message.title == "Créneaux disponibles : Remise"
    assert "lundi 7 décembre 2026 à 10:00" in message.body  # 09:00 UTC is 10:00 in Paris in winter
    assert WATCH.url in message.body
    assert "30/11/2026 à 08:15" in message.body
    assert message.attach == ("evidence/w/stamped.png",)


def test_captcha_message_links_to_the_assist_page() -> None:
    message = messages.for_event(E.CAPTCHA, WATCH, make_result(S.CAPTCHA), dashboard="https://rdv.example/", failures=0)
    assert "https://rdv.example/assist" in message.body


def test_unhealthy_message_says_how_many_failed() -> None:
    message = messages.for_event(E.UNHEALTHY, WATCH, make_result(S.ERROR), dashboard="http://d", failures=3)
    assert "Les 3 dernières tentatives" in message.body
    assert message.kind == "failure"


def test_payload_round_trip() -> None:
    message = messages.for_event(E.RECOVERED, WATCH, make_result(S.NO_SLOT), dashboard="http://d", failures=0)
    assert messages.Message.from_payload(message.to_payload()) == message


PURE = ("alerts.py", "digest.py", "messages.py")


@pytest.mark.parametrize("name", PURE)
def test_policy_modules_stay_pure(name: str) -> None:
    tree = ast.parse((Path(alerts.__file__).parent / name).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    forbidden = {m for m in imported if m.split(".")[0] in {"sqlalchemy", "apprise", "playwright", "fastapi"}}
    assert not forbidden
    assert not any(m.startswith("monitor.storage") for m in imported)
