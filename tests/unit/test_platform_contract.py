"""The contract every registered platform keeps, checked on recorded pages (tests/pages/<platform>/contract.yaml).

- each platform has recorded pages for a no-slot answer and a slot answer, and classifies each recorded page
  as recorded;
- no platform reads another platform's answer page as an answer of its own;
- an unrelated page and an empty page are `unknown` for every platform, never `no_slot`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.classify import Document, normalise
from monitor.domain import Observation, Status, Watch
from monitor.platforms import PLATFORMS, get_platform
from monitor.platforms.base import AssistNotSupported, Platform
from monitor.runner import classify

PAGES = Path(__file__).resolve().parents[1] / "pages"
ANSWERS = frozenset({Status.NO_SLOT, Status.SLOTS_AVAILABLE})
NEUTRAL = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Préfecture - Horaires et accès</title>
</head><body><h1>Horaires d'ouverture</h1><p>L'accueil des étrangers est ouvert du lundi au vendredi de 9h à 16h,
uniquement sur rendez-vous. Les créneaux sont ouverts chaque semaine.</p><p>Plan d'accès : métro ligne 4.</p>
<a href="/rendez-vous">Prendre un rendez-vous</a></body></html>"""
GENERIC_OPTIONS = {
    "no_slot_text": ["Aucune disponibilité"],
    "slot_text": ["Réserver ce créneau"],
    "slot_selector": ".slot",
}


def contract(platform: str) -> list[dict[str, Any]]:
    path = PAGES / platform / "contract.yaml"
    if not path.is_file():
        return []
    entries: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return entries


def observation(platform: str, item: dict[str, Any]) -> Observation:
    return Observation(
        final_url=item["url"],
        http_status=item.get("http_status", 200),
        html=(PAGES / platform / item["page"]).read_text(encoding="utf-8"),
        title=item.get("title", ""),
        headers=item.get("headers") or {},
        facts=item.get("facts") or {},
    )


RECORDED = [(platform, item) for platform in PLATFORMS for item in contract(platform)]
ANSWER_PAGES = [(platform, item) for platform, item in RECORDED if Status(item["status"]) in ANSWERS]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_platform_has_recorded_answers(platform: str) -> None:
    entries = contract(platform)
    assert entries, f"tests/pages/{platform}/contract.yaml is missing or empty"
    assert {Status(e["status"]) for e in entries} >= ANSWERS
    assert all((PAGES / platform / e["page"]).is_file() for e in entries)


@pytest.mark.parametrize(("platform", "item"), RECORDED, ids=[f"{p}/{i['page']}" for p, i in RECORDED])
def test_recorded_page_has_its_recorded_status(platform: str, item: dict[str, Any]) -> None:
    assert classify(platform, observation(platform, item)).status is Status(item["status"])


NO_SLOT_PAGES = [(platform, item) for platform, item in RECORDED if item["status"] == Status.NO_SLOT]


@pytest.mark.parametrize(("platform", "item"), NO_SLOT_PAGES, ids=[f"{p}/{i['page']}" for p, i in NO_SLOT_PAGES])
def test_no_slot_keeps_the_message_as_the_site_wrote_it(platform: str, item: dict[str, Any]) -> None:
    seen = observation(platform, item)
    said = classify(platform, seen).details.get("no_slot_text")
    assert isinstance(said, str)
    assert said.strip()
    assert normalise(said) in Document(seen).text  # the sentence is on the page, not rebuilt by us
    if "’" in seen.html or "&rsquo;" in seen.html:
        assert "’" in said  # a typographic apostrophe is kept, not normalised away


@pytest.mark.parametrize(("source", "item"), ANSWER_PAGES, ids=[f"{p}/{i['page']}" for p, i in ANSWER_PAGES])
def test_no_platform_reads_another_platforms_answer_as_its_own(source: str, item: dict[str, Any]) -> None:
    seen = observation(source, item)
    for platform in PLATFORMS:
        if platform != source:
            assert classify(platform, seen).status not in ANSWERS, platform


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("html", [NEUTRAL, "", "<html><body></body></html>"], ids=["neutral", "empty", "blank"])
def test_unrelated_and_empty_pages_are_unknown(platform: str, html: str) -> None:
    for facts in ({}, {"options": GENERIC_OPTIONS}):
        seen = Observation(final_url="https://www.example.gouv.fr/", http_status=200, html=html, facts=facts)
        verdict = classify(platform, seen)
        assert verdict.status is Status.UNKNOWN, verdict.reason
        assert verdict.slots == ()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_only_platforms_that_support_assistance_take_a_captcha_answer(platform: str) -> None:
    adapter = get_platform(platform)
    assert isinstance(adapter.supports_assist, bool)
    overrides = {
        m for m in ("captcha_image", "submit_captcha") if getattr(type(adapter), m) is not getattr(Platform, m)
    }
    if adapter.supports_assist:
        assert overrides == {"captcha_image", "submit_captcha"}
        return
    assert overrides == set()
    watch = Watch(id="w", url="https://www.example.gouv.fr/", platform=platform)
    assert asyncio.run(adapter.captcha_image(None)) is None  # type: ignore[arg-type]
    with pytest.raises(AssistNotSupported, match=platform):
        asyncio.run(adapter.submit_captcha(None, watch, None, "ABC123"))  # type: ignore[arg-type]
