"""ezbooking's markers on recorded pages (tests/pages/ezbooking): only the exact visible no-slot sentence is no_slot."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from pydantic import ValidationError

from monitor.domain import Observation, Status, Verdict
from monitor.platforms import recognise
from monitor.platforms.ezbooking import EzBookingOptions
from monitor.runner import classify

PAGES = Path(__file__).resolve().parents[1] / "pages" / "ezbooking"
URL = "https://pprdv.interieur.gouv.fr/booking/create/989"


def recorded(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def verdict(
    html: str,
    *,
    status: int | None = 200,
    url: str = URL + "/2",
    headers: Mapping[str, str] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Verdict:
    titles = lxml.html.document_fromstring(html).findtext(".//title") if html.strip() else ""
    observation = Observation(
        final_url=url, http_status=status, html=html, title=titles or "", headers=headers or {}, facts=facts or {}
    )
    return classify("ezbooking", observation)


EXPECTED = [
    ("no_slot_paris.html", 200, Status.NO_SLOT),
    ("no_slot_departement.html", 200, Status.NO_SLOT),
    ("calendar.html", 200, Status.SLOTS_AVAILABLE),
    ("calendar_loading.html", 200, Status.SLOTS_AVAILABLE),
    ("captcha.html", 200, Status.CAPTCHA),
    ("nginx_502.html", 502, Status.ERROR),
    ("forbidden_403.html", 403, Status.BLOCKED),
    ("bot_challenge.html", 403, Status.BLOCKED),
    ("bot_challenge.html", 200, Status.BLOCKED),
    ("changed_layout.html", 200, Status.UNKNOWN),
    ("conditions.html", 200, Status.UNKNOWN),
    ("choice.html", 200, Status.UNKNOWN),
    ("descriptif.html", 200, Status.UNKNOWN),
    ("near_miss_other_sentence.html", 200, Status.UNKNOWN),
    ("near_miss_hidden.html", 200, Status.UNKNOWN),
    ("near_miss_script.html", 200, Status.UNKNOWN),
    ("near_miss_outside_form.html", 200, Status.UNKNOWN),
    ("no_slot_paris.html", 502, Status.ERROR),
    ("no_slot_paris.html", 429, Status.BLOCKED),
    ("calendar.html", 503, Status.ERROR),
]


@pytest.mark.parametrize(("name", "status", "expected"), EXPECTED, ids=[f"{n}@{s}" for n, s, _ in EXPECTED])
def test_recorded_pages_classify_as_expected(name: str, status: int, expected: Status) -> None:
    assert verdict(recorded(name), status=status).status is expected


def test_every_recorded_page_is_covered() -> None:
    assert {p.name for p in PAGES.glob("*.html")} == {name for name, _, _ in EXPECTED}


def test_no_slot_reason_quotes_the_marker() -> None:
    found = verdict(recorded("no_slot_paris.html"))
    assert found.reason == (
        "« Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement. »"
    )
    assert found.slots == ()


FIRST = "Il n’existe plus de plage horaire libre pour votre demande de rendez-vous."
SECOND = "Veuillez recommencer ultérieurement."
NO_SLOT_SENTENCE = (
    "Il n’existe plus de plage horaire libre pour votre demande de\n"
    "        rendez-vous.&nbsp;Veuillez recommencer ult&eacute;rieurement."
)


@pytest.mark.parametrize(
    "sentence",
    [
        FIRST.replace("’", "'") + " " + SECOND,
        "Il n&#39;existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer "
        "ult&#233;rieurement.",
        "IL N’EXISTE PLUS DE PLAGE HORAIRE LIBRE POUR VOTRE DEMANDE DE RENDEZ-VOUS. VEUILLEZ RECOMMENCER "
        "ULTÉRIEUREMENT.",
        (FIRST + " " + SECOND).lower(),
        "Il\u00a0n’existe\u00a0plus de plage\thoraire libre pour votre demande de rendez-vous.<br><br>\n\n"
        "Veuillez    recommencer ultérieurement.",
        "<p>Il n’existe plus de plage horaire libre pour votre <b>demande</b> de rendez-vous.</p>"
        "<p>Veuillez recommencer ultérieurement.</p>",
        "<span style='display: block'>Il n’existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement.</span>",
    ],
    ids=["straight", "numeric entities", "upper", "lower", "spaces and breaks", "split by tags", "visible style"],
)
def test_the_marker_is_found_whatever_its_typography(sentence: str) -> None:
    page = recorded("no_slot_paris.html")
    assert NO_SLOT_SENTENCE in page
    assert verdict(page.replace(NO_SLOT_SENTENCE, sentence)).status is Status.NO_SLOT


@pytest.mark.parametrize(
    "sentence",
    [
        "Il n’existe plus de plage horaire libre pour votre demande de rendez-vous.",
        "Veuillez recommencer ultérieurement.",
        FIRST.replace("plus", "pas") + " " + SECOND,
        "Il existe une plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer ultérieurement.",
        "Il n’existe plus de plage horaire libre pour votre demande. Veuillez recommencer ultérieurement.",
        "Aucune plage horaire libre. Veuillez recommencer ultérieurement.",
        FIRST.replace("plage horaire", "plagehoraire") + " " + SECOND,
        "<!-- Il n’existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer "
        "ultérieurement. -->",
        '<input type="hidden" value="Il n’existe plus de plage horaire libre pour votre demande de rendez-vous. '
        'Veuillez recommencer ultérieurement.">',
        "<div style='display:none'>Il n’existe plus de plage horaire libre pour votre demande de rendez-vous. "
        "Veuillez recommencer ultérieurement.</div>",
        "<script>Il n’existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer "
        "ultérieurement.</script>",
        "",
    ],
    ids=[
        "first half",
        "second half",
        "pas instead of plus",
        "the opposite",
        "a word missing",
        "other wording",
        "words glued",
        "html comment",
        "hidden input",
        "display none",
        "script",
        "empty form",
    ],
)
def test_anything_but_the_exact_visible_marker_is_never_no_slot(sentence: str) -> None:
    page = recorded("no_slot_paris.html").replace(NO_SLOT_SENTENCE, sentence)
    assert verdict(page).status is Status.UNKNOWN


def test_the_marker_inside_a_hidden_form_is_not_no_slot() -> None:
    page = recorded("no_slot_paris.html").replace('<div id="inner_Booking">', '<div id="inner_Booking" hidden>')
    assert verdict(page).status is Status.UNKNOWN


def test_the_marker_outside_the_booking_form_is_not_no_slot() -> None:
    page = recorded("no_slot_paris.html").replace('id="FormBookingCreate"', 'id="FormSearch"')
    assert verdict(page).status is Status.UNKNOWN


# -- slots -----------------------------------------------------------------------------------------------------


def paris(*parts: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*parts, tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)


def test_slot_links_give_exact_sorted_utc_times() -> None:
    found = verdict(recorded("calendar.html"), url=URL + "/4")
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.slots == (paris(2025, 12, 8, 9, 0), paris(2025, 12, 8, 9, 20), paris(2025, 12, 10, 14, 40))
    assert all(s.tzinfo is UTC for s in found.slots)
    assert found.reason == "3 free slot(s) in the calendar, first 2025-12-08T09:00+01:00"


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ('<a href="/booking/create/989/5/1765180800">libre</a>' * 2, 1),
        ('<a href="/booking/create/989/5/1765180800/">libre</a><a href="/booking/create/989/5/1765182000#x">l</a>', 2),
        ('<a href="/booking/create/989/5/abc">libre</a><a href="/booking/create/989/5/12">libre</a>', 0),
        ('<a href="/booking/create/989/4">Semaine suivante</a><a href="/booking/create/989/55/1765180800">x</a>', 0),
        ('<div style="display:none"><a href="/booking/create/989/5/1765180800">libre</a></div>', 0),
        ('<template><a href="/booking/create/989/5/1765180800">libre</a></template>', 0),
    ],
    ids=["duplicates", "trailing slash and fragment", "not a timestamp", "other steps", "hidden", "template"],
)
def test_only_visible_slot_links_count(links: str, expected: int) -> None:
    page = f'<html><body><form id="FormBookingCreate"><table><tr><td>{links}</td></tr></table></form></body></html>'
    assert len(verdict(page, url=URL + "/4").slots) == expected


def test_the_first_free_button_alone_says_slots_without_times() -> None:
    found = verdict(recorded("calendar_loading.html"), url=URL + "/4")
    assert (found.status, found.slots) == (Status.SLOTS_AVAILABLE, ())
    assert "Première plage horaire libre" in found.reason


def test_slots_outrank_a_no_slot_sentence_on_the_same_page() -> None:
    page = recorded("calendar.html").replace("</form>", NO_SLOT_SENTENCE + "</form>")
    assert verdict(page).status is Status.SLOTS_AVAILABLE


def test_a_captcha_outranks_slots() -> None:
    page = recorded("calendar.html").replace("</form>", '<div class="g-recaptcha"></div></form>')
    assert verdict(page).status is Status.CAPTCHA


# -- guichet choice --------------------------------------------------------------------------------------------

CHOICES = [
    {"id": "16106", "label": "Guichet 1 - Première demande"},
    {"id": "16107", "label": "Guichet 2 - Renouvellement"},
]


def test_several_guichets_without_a_planning_list_ids_and_labels() -> None:
    found = verdict(recorded("choice.html"), url=URL + "/1", facts={"choices": CHOICES, "planning": None})
    assert found.status is Status.UNKNOWN
    assert found.reason == (
        "several guichets, set options.planning to one of: "
        "16106 = Guichet 1 - Première demande; 16107 = Guichet 2 - Renouvellement"
    )
    assert found.details == {"choices": CHOICES}


def test_a_configured_planning_that_is_not_offered_says_so() -> None:
    found = verdict(recorded("choice.html"), url=URL + "/1", facts={"choices": CHOICES, "planning": "990"})
    assert found.status is Status.UNKNOWN
    assert found.reason.startswith("configured guichet '990' is not offered; choices: 16106 = Guichet 1")


def test_a_blocked_choice_page_is_still_blocked() -> None:
    found = verdict(recorded("choice.html"), status=429, facts={"choices": CHOICES, "planning": None})
    assert found.status is Status.BLOCKED


# -- options and recognition -----------------------------------------------------------------------------------


def test_options_take_the_planning_as_text_and_nothing_else() -> None:
    assert EzBookingOptions.model_validate({"planning": 990}).planning == "990"
    assert EzBookingOptions.model_validate({}).planning is None
    with pytest.raises(ValidationError):
        EzBookingOptions.model_validate({"guichet": "990"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://pprdv.interieur.gouv.fr/booking/create/989", "ezbooking"),
        ("https://www.essonne.gouv.fr/booking/create/15937/0", "ezbooking"),
        ("https://www.rdv.hauts-de-seine.gouv.fr/booking/create/12345/1", "ezbooking"),
        ("http://127.0.0.1:8080/booking/create/989", "ezbooking"),
        ("https://www.essonne.gouv.fr/booking/cancel/15937", None),
        ("https://www.essonne.gouv.fr/Demarches/Rendez-vous", None),
    ],
)
def test_ezbooking_urls_are_recognised_on_any_host(url: str, expected: str | None) -> None:
    assert recognise(url) == expected
