"""The pure classifier: text normalisation, visible text, the fixed precedence, and what any site can show."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import lxml.html
import pytest

from monitor.classify import PRECEDENCE, Document, Findings, decide, generic_findings, is_shown, normalise, visible_text
from monitor.domain import Observation, Status

URL = "https://pprdv.interieur.gouv.fr/booking/create/989/2"


def doc(
    html: str,
    *,
    status: int | None = 200,
    title: str = "",
    headers: Mapping[str, str] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Document:
    return Document(
        Observation(final_url=URL, http_status=status, html=html, title=title, headers=headers or {}, facts=facts or {})
    )


@pytest.mark.parametrize(
    "variant",
    [
        "Il n’existe plus de plage",
        "Il n'existe plus de plage",
        "Il n&#39;existe plus de plage",
        "Il n&rsquo;existe plus de plage",
        "Il n&#8217;existe plus de plage",
        "IL N’EXISTE PLUS DE PLAGE",
        "  il\u00a0n'existe\tplus\n\n de   plage ",
        "Il&nbsp;n'existe&nbsp;plus&nbsp;de&nbsp;plage",
        "Il\u202fn'existe plus de plage",
        "Il n\u2018existe plus de plage",
    ],
)
def test_normalise_folds_apostrophes_spaces_entities_and_case(variant: str) -> None:
    assert normalise(variant) == "il n'existe plus de plage"


def test_normalise_keeps_accents_and_decodes_entities() -> None:
    assert normalise("Veuillez recommencer ult&eacute;rieurement.") == "veuillez recommencer ultérieurement."
    assert normalise("ult&#233;rieurement") == normalise("ultérieurement") == normalise("ULTÉRIEUREMENT")


def test_normalise_does_not_merge_distinct_words() -> None:
    assert normalise("plage horaire") != normalise("plagehoraire")
    assert normalise("") == ""


def test_visible_text_leaves_out_scripts_styles_and_hidden_parts() -> None:
    page = doc(
        """<html><head><title>Titre</title><style>.x{}</style></head><body>
        <p>Un</p><script>var t = "secret";</script><noscript>pas de js</noscript>
        <div style="display:none">caché</div><div style="Visibility : Hidden">masqué</div><p hidden>non</p>
        <template>modèle</template><input type="hidden" value="v">deux<p>trois</p></body></html>"""
    )
    assert page.text == "un deux trois"
    assert page.contains("UN  deux")
    assert not page.contains("secret")
    assert not page.contains("caché")


def test_visible_text_of_an_element_excludes_its_tail_and_hidden_ancestors() -> None:
    tree = lxml.html.document_fromstring(
        '<html><body><form id="f">dedans <b>gras</b> fin</form>après'
        '<div style="display:none"><form id="g">invisible</form></div></body></html>'
    )
    form, hidden_form = tree.get_element_by_id("f"), tree.get_element_by_id("g")
    assert visible_text(form) == "dedans gras fin"
    assert visible_text(hidden_form) == ""
    assert is_shown(form)
    assert not is_shown(hidden_form)


def test_an_empty_page_parses() -> None:
    assert doc("").text == ""
    assert doc("   ").select("form") == []


def test_block_starting_returns_the_visible_block_whole() -> None:
    page = doc("<p>Dernière  mise en ligne\u00a0: <b>lundi</b></p><p>autre</p>")
    assert page.block_starting("Mise en ligne") is None
    assert page.block_starting("Dernière mise en ligne") == "Dernière mise en ligne : lundi"


# -- the precedence --------------------------------------------------------------------------------------------

ALL = Findings(
    blocked="b",
    captcha="c",
    maintenance="m",
    error="e",
    slots_available="s",
    no_slot="n",
    slots=(datetime(2026, 12, 7, 9, tzinfo=UTC),),
)


def test_precedence_is_the_documented_order() -> None:
    assert [s.value for s in PRECEDENCE] == [
        "blocked",
        "captcha",
        "maintenance",
        "error",
        "slots_available",
        "no_slot",
    ]


@pytest.mark.parametrize("present", list(itertools.product([False, True], repeat=len(PRECEDENCE))))
def test_decide_picks_the_first_finding_in_precedence(present: tuple[bool, ...]) -> None:
    fields = {s.value: getattr(ALL, s.value) if on else None for s, on in zip(PRECEDENCE, present, strict=True)}
    verdict = decide(Findings(**fields, slots=ALL.slots))
    expected = next((s for s, on in zip(PRECEDENCE, present, strict=True) if on), Status.UNKNOWN)
    assert verdict.status is expected
    assert verdict.slots == (ALL.slots if expected is Status.SLOTS_AVAILABLE else ())
    if expected is Status.UNKNOWN:
        assert verdict.reason == "no known marker on the page"


def test_unknown_carries_its_reason_and_details() -> None:
    verdict = decide(Findings(unknown="several guichets", details={"choices": [{"id": "1", "label": "A"}]}))
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "several guichets")
    assert verdict.details == {"choices": [{"id": "1", "label": "A"}]}


def test_an_unknown_reason_never_outranks_a_real_finding() -> None:
    assert decide(Findings(unknown="why", no_slot="n")).status is Status.NO_SLOT


def test_merged_keeps_own_findings_and_fills_the_rest() -> None:
    own = Findings(error="own error", details={"a": 1, "b": 1})
    other = Findings(error="other error", no_slot="n", slots=ALL.slots, details={"b": 2, "c": 2})
    merged = own.merged(other)
    assert (merged.error, merged.no_slot, merged.slots) == ("own error", "n", ALL.slots)
    assert merged.details == {"a": 1, "b": 1, "c": 2}


# -- what any site can show ------------------------------------------------------------------------------------

NORMAL = "<html><body><h1>Prise de rendez-vous</h1><p>" + "Texte ordinaire. " * 50 + "</p></body></html>"


def test_an_ordinary_page_has_no_generic_finding() -> None:
    assert generic_findings(doc(NORMAL)) == Findings()


@pytest.mark.parametrize("status", [403, 429])
def test_403_and_429_are_blocked(status: int) -> None:
    found = generic_findings(doc(NORMAL, status=status))
    assert found.blocked == f"HTTP {status} from the server"
    assert decide(found).status is Status.BLOCKED


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120), (" 30 ", 30), ("Wed, 21 Oct 2026 07:28:00 GMT", None), ("", None), ("-5", None)],
)
def test_429_reports_retry_after_in_seconds(header: str, seconds: int | None) -> None:
    found = generic_findings(doc(NORMAL, status=429, headers={"retry-after": header}))
    assert found.details == {"retry_after": seconds}
    assert decide(found).details == {"retry_after": seconds}


def test_403_has_no_retry_after() -> None:
    assert generic_findings(doc(NORMAL, status=403, headers={"retry-after": "60"})).details == {}


CHALLENGE_BODY = (
    "<html><body><h2>Vérifiez que vous êtes humain. Cela peut prendre quelques secondes.</h2></body></html>"
)


@pytest.mark.parametrize(
    ("html", "title"),
    [
        (CHALLENGE_BODY, ""),
        ("<html><body><p>Merci de patienter</p></body></html>", "Un instant…"),
        ("<html><body><p>UN INSTANT&nbsp;…</p></body></html>", ""),
        ("<html><body><h1>Just a moment</h1><p>Checking your browser before accessing</p></body></html>", ""),
        ('<html><body><iframe src="https://challenges.cloudflare.com/cdn-cgi/x"></iframe></body></html>', "Site"),
        ('<html><body><div class="cf-turnstile"></div></body></html>', ""),
        ('<html><body><form id="challenge-form"></form></body></html>', ""),
    ],
    ids=["humain body", "title", "shouting body", "english", "cloudflare iframe", "turnstile", "challenge form"],
)
def test_bot_challenges_are_blocked(html: str, title: str) -> None:
    found = generic_findings(doc(html, title=title))
    assert found.blocked is not None
    assert decide(found).status is Status.BLOCKED


def test_a_long_page_that_merely_says_un_instant_is_not_a_challenge() -> None:
    page = NORMAL.replace("<h1>", "<p>Patientez un instant pendant le chargement.</p><h1>")
    assert generic_findings(doc(page)).blocked is None


def test_a_challenge_served_with_403_is_blocked_by_status() -> None:
    assert generic_findings(doc(CHALLENGE_BODY, status=403)).blocked == "HTTP 403 from the server"


NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    "\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>"
)


@pytest.mark.parametrize(
    ("html", "status", "reason"),
    [
        (NGINX_502, 502, "HTTP 502 (502 bad gateway)"),
        (NGINX_502, 200, "proxy error page: 502 bad gateway"),
        (NGINX_502, None, "proxy error page: 502 bad gateway"),
        ("<html><body><h1>504 Gateway Time-out</h1></body></html>", 504, "HTTP 504 (504 gateway time-out)"),
        ("<html><body>Internal Server Error</body></html>", 500, "HTTP 500"),
        ("<html><body>Service Unavailable</body></html>", 503, "HTTP 503"),
    ],
)
def test_server_and_proxy_errors_are_errors(html: str, status: int | None, reason: str) -> None:
    found = generic_findings(doc(html, status=status))
    assert found.error == reason
    assert decide(found).status is Status.ERROR


def test_a_navigation_failure_is_an_error_whatever_the_page() -> None:
    found = generic_findings(doc(NORMAL, status=None, facts={"navigation_error": "timed out"}))
    assert found.error == "navigation failed: timed out"
    assert decide(found).status is Status.ERROR


def test_a_502_mentioned_in_a_script_is_not_a_proxy_error() -> None:
    page = NORMAL.replace("</body>", "<script>var e = '502 Bad Gateway';</script></body>")
    assert generic_findings(doc(page)) == Findings()
