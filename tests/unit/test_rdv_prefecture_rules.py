"""rdv-prefecture's rules on recorded pages (tests/pages/rdv-prefecture) and on small variations of them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.domain import Observation, Status, Verdict
from monitor.platforms import recognise
from monitor.runner import classify

PAGES = Path(__file__).resolve().parents[1] / "pages" / "rdv-prefecture"
BASE = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4418"
CRENEAU = BASE + "/creneau/"
DATE = {"date": "Mon, 30 Nov 2026 08:00:00 GMT"}


def recorded(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def verdict(
    html: str, *, url: str = CRENEAU, status: int | None = 200, headers: dict[str, str] | None = None
) -> Verdict:
    seen = Observation(final_url=url, http_status=status, html=html, headers=DATE if headers is None else headers)
    return classify("rdv-prefecture", seen)


def creneau(body: str, critere: str = '"datePremiereDispo": ""') -> str:
    return (
        f"<html><head><title>Choisissez votre créneau</title></head><body><h1>Choisissez votre créneau</h1>"
        f'{body}<script>window.__RDVPREF__ = {{"critere": {{{critere}, "dateMin": "2026-11-30"}}}};</script>'
        "</body></html>"
    )


NO_SLOT = "<div><p>Aucun créneau disponible</p><p>Veuillez réessayer ultérieurement.</p></div>"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4418/", "rdv-prefecture"),
        ("https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4418/cgu/", "rdv-prefecture"),
        ("http://127.0.0.1:8000/rdvpref/reservation/demarche/12/creneau/", "rdv-prefecture"),
        ("https://rdv.anct.gouv.fr/prendre_rdv?public_link_organisation_id=2458", "rdv-service-public"),
        ("http://localhost/prendre_rdv", "rdv-service-public"),
        ("https://pprdv.interieur.gouv.fr/booking/create/989", "ezbooking"),
        ("https://www.example.fr/booking/create/12/0", "ezbooking"),
        ("https://www.example.fr/rendez-vous", None),
        ("https://rdv.anct.gouv.fr/prendre_rdvs", None),
        ("https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/", None),
    ],
)
def test_a_platform_is_recognised_from_the_url_shape_whatever_the_host(url: str, expected: str | None) -> None:
    assert recognise(url) == expected


def test_the_captcha_page_is_captcha() -> None:
    found = verdict(recorded("captcha--cgu.html"), url=BASE + "/cgu/")
    assert found.status is Status.CAPTCHA
    assert "code de sécurité" in found.reason


def test_a_refused_answer_and_an_expired_session_say_so() -> None:
    page = recorded("captcha--cgu.html")
    refused = verdict(page, url=BASE + "/cgu/?error=invalidCaptcha")
    expired = verdict(page, url=BASE + "/cgu/?error=errorSessionInvalide")
    assert (refused.status, expired.status) == (Status.CAPTCHA, Status.CAPTCHA)
    assert "invalidCaptcha" in refused.reason
    assert "errorSessionInvalide" in expired.reason


def test_a_recaptcha_is_captcha() -> None:
    assert verdict(recorded("captcha--recaptcha.html"), url=BASE + "/cgu/").status is Status.CAPTCHA


def test_the_bot_challenge_is_blocked_even_where_the_captcha_would_be() -> None:
    found = verdict(recorded("blocked--challenge.html"), url=BASE + "/cgu/")
    assert found.status is Status.BLOCKED


@pytest.mark.parametrize(
    "page",
    [
        '<html><head><meta name="robots" content="noindex,nofollow"></head><body>'
        '<iframe id="main-iframe" src="/_Incapsula_Resource?SWUDNSAI=31&xinfo=1"></iframe></body></html>',
        "<html><body><p>Request unsuccessful. Incapsula incident ID: 1234-5678</p></body></html>",
    ],
    ids=["iframe", "text"],
)
def test_the_imperva_block_page_is_blocked(page: str) -> None:
    assert verdict(page, url=BASE + "/").status is Status.BLOCKED


def test_too_many_requests_is_blocked_with_the_retry_after() -> None:
    found = verdict("<html><body>Too Many Requests</body></html>", status=429, headers={"retry-after": "120"})
    assert found.status is Status.BLOCKED
    assert found.details["retry_after"] == 120


def test_the_no_slot_page_is_no_slot_and_keeps_the_last_publication() -> None:
    found = verdict(recorded("no_slot--creneau.html"))
    assert found.status is Status.NO_SLOT
    assert found.reason == "« Aucun créneau disponible » « Veuillez réessayer ultérieurement. »"
    assert found.details["last_published"] == "Dernière mise en ligne : lundi 30 novembre 2026 à 08:00"
    assert found.details["date_premiere_dispo"] is None


def test_without_the_publication_line_there_is_no_last_published() -> None:
    found = verdict(recorded("no_slot--creneau-unpublished.html"))
    assert found.status is Status.NO_SLOT
    assert "last_published" not in found.details


def test_radio_cards_are_slots_with_their_paris_times_in_utc() -> None:
    found = verdict(recorded("slots_available--cards.html"))
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.slots == (
        datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 8, 15, tzinfo=UTC),
        datetime(2026, 12, 8, 13, 30, tzinfo=UTC),
    )
    assert found.details["date_premiere_dispo"] == "2026-12-07"


def test_an_empty_week_with_a_later_date_is_slots_never_no_slot() -> None:
    page = recorded("slots_available--next-week.html")
    assert "Aucun créneau disponible" in page  # the week itself says no slot
    found = verdict(page)
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.details["next_available"] == "Prochaine disponibilité le lundi 14 décembre 2026 à 09:00"
    assert found.details["next_available_at"] == "2026-12-14T08:00:00+00:00"


def test_cards_whose_text_has_no_date_still_count_as_slots() -> None:
    card = '<label class="radio-card"><input type="radio" id="trhId_7" name="trhId">Matin</label>'
    found = verdict(creneau(card))
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.slots == ()


def test_a_day_written_without_year_takes_the_servers_year() -> None:
    card = '<li class="radio-card"><input type="radio" id="trhId_7"><span>lun. 7 déc.</span><span>9h30</span></li>'
    found = verdict(creneau(card))
    assert found.slots == (datetime(2026, 12, 7, 8, 30, tzinfo=UTC),)


def test_hidden_cards_are_not_slots() -> None:
    hidden = (
        '<div style="display:none"><label class="radio-card"><input id="trhId_1"> 7 décembre 2026 09:00</label></div>'
    )
    assert verdict(creneau(hidden + NO_SLOT)).status is Status.NO_SLOT


def test_the_no_slot_sentences_need_each_other() -> None:
    assert verdict(creneau("<p>Aucun créneau disponible</p>")).status is Status.UNKNOWN
    assert verdict(creneau("<p>Veuillez réessayer ultérieurement.</p>")).status is Status.UNKNOWN


def test_the_no_slot_sentences_must_stand_alone() -> None:
    inside = "<p>Aucun créneau disponible ce matin, mais l'après-midi oui. Veuillez réessayer ultérieurement.</p>"
    assert verdict(creneau(inside)).status is Status.UNKNOWN


def test_typographic_variants_of_the_no_slot_sentences_match() -> None:
    variant = "<p>AUCUN\u00a0créneau   disponible</p><p>Veuillez r&eacute;essayer ult&eacute;rieurement.</p>"
    assert verdict(creneau(variant)).status is Status.NO_SLOT


def test_the_no_slot_sentences_count_only_on_the_slot_page() -> None:
    assert verdict(creneau(NO_SLOT), url=BASE + "/").status is Status.UNKNOWN


def test_no_slot_words_with_a_first_available_date_in_the_data_are_not_no_slot() -> None:
    found = verdict(creneau(NO_SLOT, critere='"datePremiereDispo": "2026-12-14"'))
    assert found.status is Status.UNKNOWN
    assert "2026-12-14" in found.reason


def test_a_null_first_date_is_none() -> None:
    found = verdict(creneau(NO_SLOT, critere='"datePremiereDispo": null'))
    assert found.status is Status.NO_SLOT
    assert found.details["date_premiere_dispo"] is None


def test_the_changed_landing_page_is_unknown() -> None:
    assert verdict(recorded("unknown--changed.html"), url=BASE + "/").status is Status.UNKNOWN
