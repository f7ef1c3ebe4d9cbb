"""Record the pages the adapters reach on the local imitations, in real Chromium, for the contract test.

    .venv/bin/python -m tests.pages.record

Each page is saved as tests/pages/<platform>/<status>--<case>.html (what `page.content()` gave) and listed in
that folder's contract.yaml with its URL (the real host put back), HTTP status, the headers the rules read
and the adapter's facts. Run it again after changing an imitation; review the diff like any other change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.browser import Browser
from monitor.domain import Observation, Watch
from monitor.platforms import get_platform
from monitor.platforms.base import DocumentTracker
from monitor.runner import classify
from tests.sites import generic, rdv_prefecture, rdv_service_public
from tests.sites.server import LocalServer, Site

HERE = Path(__file__).resolve().parent
KEPT_HEADERS = ("date", "retry-after")
PAGE_OPTIONS: dict[str, Any] = {
    "no_slot_text": [generic.NO_SLOT_TEXT],
    "slot_text": [generic.SLOT_TEXT],
    "slot_selector": "li.slot",
    "steps": [
        {"select": "#dept", "value": "94"},
        {"fill": "#cp", "value": "94000"},
        {"check": "#consent"},
        {"click": "#go"},
        {"wait_for": ".result"},
    ],
}


@dataclass
class Case:
    platform: str
    name: str
    site: Site
    path: str
    real_host: str
    options: dict[str, Any] | None = None
    answer: bool = False  # play the person: answer the captcha right, record the page reached


def cases() -> list[Case]:
    pref, rsp, gen = rdv_prefecture, rdv_service_public, generic
    host_pref, host_rsp = "https://www.rdv-prefecture.interieur.gouv.fr", "https://rdv.anct.gouv.fr"
    landing, search = pref.PREFIX + "/", "/prendre_rdv?" + rsp.SEARCH

    def p(name: str, state: pref.PrefState, path: str = landing, answer: bool = False) -> Case:
        return Case("rdv-prefecture", name, pref.RdvPrefectureSite(state), path, host_pref, answer=answer)

    def r(name: str, state: rsp.RspState) -> Case:
        return Case("rdv-service-public", name, rsp.RdvServicePublicSite(state), search, host_rsp)

    def g(name: str, state: gen.GenericState) -> Case:
        return Case("page", name, gen.GenericSite(state), "/rendez-vous", "https://rdv.example.fr", PAGE_OPTIONS)

    return [
        p("captcha--cgu", pref.PrefState()),
        p("captcha--recaptcha", pref.PrefState(captcha="recaptcha")),
        p("captcha--session-expired", pref.PrefState(), path=pref.PREFIX + "/creneau/"),
        p("blocked--challenge", pref.PrefState(failure="challenge")),
        p("blocked--429", pref.PrefState(failure="429")),
        p("error--502", pref.PrefState(failure="502")),
        p("unknown--changed", pref.PrefState(failure="changed")),
        p("no_slot--creneau", pref.PrefState(), answer=True),
        p("no_slot--creneau-unpublished", pref.PrefState(last_published=None), answer=True),
        p("slots_available--cards", pref.PrefState(availability="slots"), answer=True),
        p("slots_available--next-week", pref.PrefState(availability="later"), answer=True),
        r("no_slot--search", rsp.RspState()),
        r("no_slot--retry-wording", rsp.RspState(retry_wording=True)),
        r("slots_available--week", rsp.RspState(availability="slots")),
        r("slots_available--next-available", rsp.RspState(availability="later")),
        r("blocked--429", rsp.RspState(failure="429")),
        r("maintenance--503", rsp.RspState(failure="maintenance")),
        r("error--500", rsp.RspState(failure="500")),
        g("no_slot--answer", gen.GenericState()),
        g("slots_available--list", gen.GenericState(availability="slots")),
        g("unknown--other-answer", gen.GenericState(availability="other")),
    ]


async def observe(browser: Browser, case: Case) -> Observation:
    with LocalServer(case.site) as server:
        watch = Watch(id="record", url=server.base + case.path, platform=case.platform, options=case.options or {})
        platform = get_platform(case.platform)
        async with browser.context() as context:
            page = await context.new_page()
            tracker = DocumentTracker(page)
            observation = await platform.visit(page, watch, tracker)
            if case.answer:
                answer = case.site.expected_answer()  # type: ignore[attr-defined]
                observation = await platform.submit_captcha(page, watch, tracker, answer)
            return observation


def entry(case: Case, observation: Observation, local_base: str) -> dict[str, Any]:
    status = case.name.split("--")[0]
    found = classify(case.platform, observation).status
    if found != status:
        raise SystemExit(f"{case.platform}/{case.name}: the adapter says {found}, the case says {status}")
    return {
        "page": f"{case.name}.html",
        "status": status,
        "url": observation.final_url.replace(local_base, case.real_host),
        "http_status": observation.http_status,
        "title": observation.title,
        "headers": {k: v for k, v in observation.headers.items() if k in KEPT_HEADERS},
        "facts": dict(observation.facts),
    }


async def record(run: Callable[[Browser, Case], Awaitable[Observation]] = observe) -> None:
    browser = Browser(timeout_seconds=10)
    await browser.start()
    manifests: dict[str, list[dict[str, Any]]] = {}
    try:
        for case in cases():
            observation = await run(browser, case)
            local = observation.final_url.split("/", 3)
            folder = HERE / case.platform
            folder.mkdir(exist_ok=True)
            (folder / f"{case.name}.html").write_text(observation.html, encoding="utf-8")
            manifests.setdefault(case.platform, []).append(entry(case, observation, "/".join(local[:3])))
    finally:
        await browser.close()
    for platform, entries in manifests.items():
        text = yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=120)
        (HERE / platform / "contract.yaml").write_text(HEADER + text, encoding="utf-8")


HEADER = "# Written by tests/pages/record.py from the local imitations: each page, its status and what came with it.\n"

if __name__ == "__main__":
    asyncio.run(record())
