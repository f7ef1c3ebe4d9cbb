"""rdv-service-public's rules on recorded pages (tests/pages/rdv-service-public) and on variations of them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.domain import Observation, Status, Verdict
from monitor.platforms.rdv_service_public import starts_at
from monitor.runner import classify

PAGES = Path(__file__).resolve().parents[1] / "pages" / "rdv-service-public"
URL = "https://rdv.anct.gouv.fr/prendre_rdv?motif_name_with_location_type=x&public_link_organisation_id=2458"
DATE = {"date": "Mon, 30 Nov 2026 08:00:00 GMT"}


def recorded(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def verdict(html: str, *, status: int | None = 200, headers: dict[str, str] | None = None, title: str = "") -> Verdict:
    seen = Observation(final_url=URL, http_status=status, html=html, title=title, headers=headers or DATE)
    return classify("rdv-service-public", seen)


def body(inner: str) -> str:
    return f"<html><head><title>Prendre rendez-vous</title></head><body><main>{inner}</main></body></html>"


@pytest.mark.parametrize("name", ["no_slot--search.html", "no_slot--retry-wording.html"])
def test_both_recorded_wordings_are_no_slot(name: str) -> None:
    found = verdict(recorded(name))
    assert found.status is Status.NO_SLOT
    assert found.reason.startswith("« Malheureusement, aucun créneau correspondant")


def test_the_longer_wording_is_quoted_whole() -> None:
    assert "Veuillez réessayer ultérieurement." in verdict(recorded("no_slot--retry-wording.html")).reason


@pytest.mark.parametrize(
    "sentence",
    [
        "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé.",
        "Malheureusement, aucun créneau correspondant à votre recherche n\u2019a été trouvé.",
        "Malheureusement, aucun créneau correspondant à votre recherche n&rsquo;a &eacute;t&eacute; trouv&eacute;.",
        "Malheureusement,\u00a0aucun créneau   correspondant à votre recherche\nn'a été trouvé. Veuillez réessayer"
        " ultérieurement.",
        "MALHEUREUSEMENT, AUCUN CRÉNEAU CORRESPONDANT À VOTRE RECHERCHE N'A ÉTÉ TROUVÉ.",
    ],
)
def test_typographic_variants_of_the_no_slot_sentence_match(sentence: str) -> None:
    assert verdict(body(f"<p>{sentence}</p>")).status is Status.NO_SLOT


@pytest.mark.parametrize(
    "text",
    [
        "Aucun créneau correspondant à votre recherche.",  # the sentence cut short
        "Malheureusement, aucun créneau n'a été trouvé.",
        "<span style='display:none'>Malheureusement, aucun créneau correspondant à votre recherche"
        " n'a été trouvé.</span>",
        '<script>var m = "Malheureusement, aucun créneau correspondant à votre recherche n\'a été trouvé."</script>',
    ],
)
def test_near_misses_are_unknown(text: str) -> None:
    assert verdict(body(text)).status is Status.UNKNOWN


def test_slot_buttons_are_slots_with_their_times() -> None:
    found = verdict(recorded("slots_available--week.html"))
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.slots == (
        datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
        datetime(2026, 12, 9, 13, 0, tzinfo=UTC),
    )


def test_a_slot_button_without_starts_at_is_read_from_its_label() -> None:
    link = '<a href="/prendre_rdv?x=1&starts_at=" aria-label="Choisir le créneau du mardi 8 déc. à 10:15">10:15</a>'
    found = verdict(body(link))
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.slots == (datetime(2026, 12, 8, 9, 15, tzinfo=UTC),)


def test_a_later_availability_is_slots_never_no_slot() -> None:
    found = verdict(recorded("slots_available--next-available.html"))
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.details["next_available"] == "Prochaine disponibilité le lundi 21 décembre 2026 à 10h00"
    assert found.details["next_available_at"] == "2026-12-21T09:00:00+00:00"


def test_the_later_availability_counts_only_as_a_link_back_to_the_search() -> None:
    assert verdict(body("<p>Prochaine disponibilité le lundi 21 décembre 2026</p>")).status is Status.UNKNOWN


def test_too_many_requests_is_blocked_with_the_retry_after() -> None:
    found = verdict(recorded("blocked--429.html"), status=429, headers={"retry-after": "90"})
    assert found.status is Status.BLOCKED
    assert found.details["retry_after"] == 90


def test_the_maintenance_page_is_maintenance_not_error() -> None:
    found = verdict(recorded("maintenance--503.html"), status=503, title="Service indisponible")
    assert found.status is Status.MAINTENANCE
    assert "Service indisponible" in found.reason


def test_a_bare_503_is_maintenance_and_a_static_page_served_200_too() -> None:
    assert verdict("", status=503).status is Status.MAINTENANCE
    assert verdict(body("<h1>Service indisponible</h1>"), status=200).status is Status.MAINTENANCE


def test_maintenance_outranks_a_no_slot_sentence_on_the_same_page() -> None:
    page = body(
        "<h1>Service indisponible</h1><p>Malheureusement, aucun créneau correspondant à votre recherche"
        " n'a été trouvé.</p>"
    )
    assert verdict(page, status=503).status is Status.MAINTENANCE


def test_the_unexpected_error_page_is_error() -> None:
    assert verdict(recorded("error--500.html"), status=500).status is Status.ERROR
    assert verdict(body("<h1>Erreur inattendue</h1>"), status=200).status is Status.ERROR


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-07 09:00:00 +0100", datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),
        ("2026-12-07T09:00:00 01:00", datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),  # an unescaped + read as a space
        ("2026-12-07T09:00:00+01:00", datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),
        ("2026-06-07 09:00:00", datetime(2026, 6, 7, 7, 0, tzinfo=UTC)),  # no offset: Paris summer time
        ("demain", None),
        ("", None),
    ],
)
def test_starts_at_values(value: str, expected: datetime | None) -> None:
    assert starts_at(value) == expected
