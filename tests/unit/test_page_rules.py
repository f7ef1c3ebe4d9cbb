"""The generic `page` platform: its options are checked when the watch file loads; only configured markers count."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.catalog import load_catalog
from monitor.domain import Observation, Status, Verdict
from monitor.errors import ConfigError
from monitor.runner import classify
from tests.conftest import write_watches

URL = "https://rdv.example.fr/rendez-vous"
OPTIONS: dict[str, Any] = {
    "no_slot_text": ["Aucune disponibilité pour le moment"],
    "slot_text": ["Des créneaux sont disponibles"],
    "slot_selector": "li.slot",
}


def load(workdir: Path, options: Any) -> Any:
    path = write_watches(workdir / "w.yaml", {"watches": [{"id": "mairie", "url": URL, "options": options}]})
    return load_catalog(path)


def error_of(workdir: Path, options: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(workdir, options)
    message = str(caught.value)
    assert "\n" not in message
    return message.split(": ", 1)[1]


def test_a_page_watch_needs_its_platform_named(workdir: Path) -> None:
    message = error_of(workdir, OPTIONS)
    assert "watches[0].platform: cannot recognise the platform from the URL" in message
    for name in ("page", "rdv-prefecture", "rdv-service-public", "ezbooking"):
        assert name in message


def test_options_with_steps_load(workdir: Path) -> None:
    steps = [{"select": "#dept", "value": 94}, {"fill": "#cp", "value": "94000"}, {"click": "#go"}, {"wait_for": ".r"}]
    path = write_watches(
        workdir / "w.yaml",
        {"watches": [{"id": "mairie", "url": URL, "platform": "page", "options": {**OPTIONS, "steps": steps}}]},
    )
    (loaded,) = load_catalog(path).watches
    assert loaded.platform == "page"
    assert dict(loaded.options["steps"][0]) == {"select": "#dept", "value": "94"}


def test_a_single_text_is_a_list_of_one(workdir: Path) -> None:
    path = write_watches(
        workdir / "w.yaml",
        {"watches": [{"id": "m", "url": URL, "platform": "page", "options": {"no_slot_text": "Complet"}}]},
    )
    (loaded,) = load_catalog(path).watches
    assert tuple(loaded.options["no_slot_text"]) == ("Complet",)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({}, "watches[0].options: set at least one of no_slot_text, slot_text, slot_selector"),
        ({"steps": [{"click": "#go"}]}, "set at least one of no_slot_text"),
        ({**OPTIONS, "no_slot_txt": ["x"]}, "watches[0].options.no_slot_txt: unknown key"),
        ({**OPTIONS, "slot_selector": "li[["}, "watches[0].options.slot_selector: not a CSS selector"),
        ({**OPTIONS, "no_slot_text": [""]}, "watches[0].options.no_slot_text: an empty text would match every page"),
        # blank once normalised like the page text is: it would be found on every page (never no_slot by accident)
        ({**OPTIONS, "no_slot_text": ["&nbsp;"]}, "watches[0].options.no_slot_text: an empty text would match"),
        ({**OPTIONS, "slot_text": ["\u00a0\u3000"]}, "watches[0].options.slot_text: an empty text would match"),
        (
            {**OPTIONS, "steps": [{"click": "#a", "fill": "#b"}]},
            "watches[0].options.steps[0]: a step needs exactly one",
        ),
        ({**OPTIONS, "steps": [{"value": "x"}]}, "watches[0].options.steps[0]: a step needs exactly one"),
        ({**OPTIONS, "steps": [{"fill": "#cp"}]}, "watches[0].options.steps[0]: value: required by fill"),
        ({**OPTIONS, "steps": [{"select": "#d"}]}, "watches[0].options.steps[0]: value: required by select"),
        ({**OPTIONS, "steps": [{"click": "#go", "value": "1"}]}, "value: only fill and select take a value"),
        ({**OPTIONS, "steps": [{"click": " "}]}, "watches[0].options.steps[0]: click: the selector is empty"),
        ({**OPTIONS, "steps": [{"hover": "#go"}]}, "watches[0].options.steps[0].hover: unknown key"),
        ({**OPTIONS, "steps": "click #go"}, "watches[0].options.steps:"),
    ],
)
def test_bad_options_are_one_line_naming_the_field(workdir: Path, options: dict[str, Any], needle: str) -> None:
    path = write_watches(
        workdir / "w.yaml", {"watches": [{"id": "m", "url": URL, "platform": "page", "options": options}]}
    )
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def verdict(html: str, options: dict[str, Any] | None = OPTIONS, status: int = 200) -> Verdict:
    facts = {"options": options} if options is not None else {}
    headers = {"date": "Mon, 30 Nov 2026 08:00:00 GMT"}
    return classify("page", Observation(final_url=URL, http_status=status, html=html, headers=headers, facts=facts))


def test_slot_elements_are_slots_with_the_dates_they_show() -> None:
    found = verdict(
        '<ul><li class="slot">lundi 7 décembre 2026 à 10h30</li><li class="slot">mardi 8 déc. 11:00</li></ul>'
    )
    assert found.status is Status.SLOTS_AVAILABLE
    assert found.slots == (datetime(2026, 12, 7, 9, 30, tzinfo=UTC), datetime(2026, 12, 8, 10, 0, tzinfo=UTC))


def test_hidden_slot_elements_do_not_count() -> None:
    html = (
        '<ul style="display:none"><li class="slot">7 décembre 2026 10h30</li></ul>'
        "<p>Aucune disponibilité pour le moment</p>"
    )
    assert verdict(html).status is Status.NO_SLOT


def test_slot_text_is_slots_and_outranks_the_no_slot_text() -> None:
    found = verdict("<p>Des créneaux sont disponibles.</p><p>Aucune disponibilité pour le moment le samedi.</p>")
    assert found.status is Status.SLOTS_AVAILABLE
    assert "slot_text" in found.reason


def test_no_slot_text_matches_normalised() -> None:
    assert verdict("<p>AUCUNE\u00a0disponibilit&eacute; pour le   moment.</p>").status is Status.NO_SLOT


def test_nothing_configured_on_the_page_is_unknown_and_says_what_was_looked_for() -> None:
    found = verdict("<p>Le service est fermé le samedi.</p>")
    assert found.status is Status.UNKNOWN
    assert "'Aucune disponibilité pour le moment'" in found.reason
    assert "'li.slot'" in found.reason


def test_a_page_seen_without_options_is_unknown() -> None:
    assert verdict("<p>Aucune disponibilité pour le moment</p>", options=None).status is Status.UNKNOWN


def test_generic_blocks_still_win() -> None:
    assert verdict("<p>Aucune disponibilité pour le moment</p>", status=429).status is Status.BLOCKED
