"""An imitation of RDV-Préfecture (field notes 3.2): landing -> cgu/ with a captcha -> creneau/, states included.

The site draws its own captcha and knows the answer, so a test can play the person who reads it.
Sessions are JSESSIONID cookies on path /rdvpref, as on the real Java back end.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from PIL import Image, ImageDraw

from monitor.messages import DAYS, MONTHS
from tests.sites.server import Reply, Request, Site, redirect

DEMARCHE = "4418"
PREFIX = f"/rdvpref/reservation/demarche/{DEMARCHE}"
Q_BTN = (
    "q-btn q-btn-item non-selectable no-outline q-btn--standard q-btn--rectangle bg-primary text-white "
    "q-btn--actionable q-focusable q-hoverable"
)


def french_day(moment: datetime) -> str:
    """'lundi 7 décembre 2026', as the front end writes a day."""
    return f"{DAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def default_slots() -> list[datetime]:
    """Paris wall times of the free slots."""
    return [datetime(2026, 12, 7, 9, 0), datetime(2026, 12, 7, 9, 15), datetime(2026, 12, 8, 14, 30)]


@dataclass
class PrefState:
    availability: str = "none"  # "none", "slots", "later" (empty week, a later first date)
    captcha: str = "botdetect"  # "botdetect", "recaptcha", "none"
    failure: str | None = None  # "challenge", "429", "403", "502", "changed"
    slots: list[datetime] = field(default_factory=default_slots)
    next_available: datetime = datetime(2026, 12, 14, 9, 0)
    last_published: str | None = "lundi 30 novembre 2026 à 08:00"
    render_delay_ms: int = 150  # the Vue front end draws creneau/ after load


def page(title: str, body: str, *, extra_head: str = "") -> str:
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title} - RDV-Préfecture</title>
{extra_head}</head><body><div id="q-app"><header class="fr-header"><p class="fr-header__service-title">
Rendez-vous en préfecture</p><p>Ministère de l'Intérieur</p></header>
<main class="q-page fr-container">{body}</main></div></body></html>"""


def captcha_png(code: str) -> str:
    """A small picture of the code, as a data URI (what the real page embeds)."""
    image = Image.new("RGB", (180, 50), (240, 240, 235))
    draw = ImageDraw.Draw(image)
    for i, char in enumerate(code):
        draw.text((14 + i * 26, 14 + (i % 2) * 6), char, fill=(30, 30, 90))
    draw.line((0, 30, 180, 22), fill=(120, 120, 120), width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


class RdvPrefectureSite(Site):
    def __init__(self, state: PrefState | None = None) -> None:
        super().__init__()
        self.state = state or PrefState()
        self.captchas: dict[str, str] = {}  # captchaId -> expected answer
        self.passed: set[str] = set()  # JSESSIONIDs that answered a captcha
        self.last_captcha_id: str | None = None

    def expected_answer(self) -> str:
        """The answer to the captcha shown last: what a person would read on the image."""
        assert self.last_captcha_id is not None, "no captcha shown yet"
        return self.captchas[self.last_captcha_id]

    def sessions_seen(self, prefix: str) -> list[str | None]:
        return [r.cookies.get("JSESSIONID") for r in self.hits(prefix)]

    def handle(self, request: Request) -> Reply:
        failure = self.failure_reply()
        if failure is not None:
            return failure
        if not request.path.startswith(PREFIX):
            return Reply(404, page("Page introuvable", "<h1>Page introuvable</h1>"))
        step = request.path[len(PREFIX) :].strip("/")
        session, cookie = self.session(request)
        reply = self.step(step, request, session)
        reply.headers.update(cookie)
        return reply

    def failure_reply(self) -> Reply | None:
        kind = self.state.failure
        if kind == "challenge":
            return Reply(200, CHALLENGE_PAGE)
        if kind == "429":
            return Reply(429, "<html><body><h1>Too Many Requests</h1></body></html>", headers={"Retry-After": "120"})
        if kind == "403":
            return Reply(403, "<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>")
        if kind == "502":
            return Reply(502, "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>")
        return None

    def session(self, request: Request) -> tuple[str, dict[str, str]]:
        existing = request.cookies.get("JSESSIONID")
        if existing:
            return existing, {}
        new = secrets.token_hex(16).upper()
        return new, {"Set-Cookie": f"JSESSIONID={new}; Path=/rdvpref; HttpOnly"}

    def step(self, step: str, request: Request, session: str) -> Reply:
        if step == "":
            return Reply(200, self.landing())
        if step == "cgu":
            if request.method == "POST":
                return self.answer(request, session)
            return Reply(200, self.cgu(request.query.get("error")))
        if step == "creneau":
            if session not in self.passed:
                return redirect(f"{PREFIX}/cgu/?error=errorSessionInvalide")
            return Reply(200, self.creneau())
        return Reply(404, page("Page introuvable", "<h1>Page introuvable</h1>"))

    def answer(self, request: Request, session: str) -> Reply:
        if "JSESSIONID" not in request.cookies:
            return redirect(f"{PREFIX}/cgu/?error=errorSessionInvalide")
        if self.state.captcha == "none":
            self.passed.add(session)
            return redirect(f"{PREFIX}/creneau/")
        expected = self.captchas.pop(request.form.get("captchaId", ""), None)
        if expected is None or request.form.get("captchaUsercode", "").strip().upper() != expected:
            return redirect(f"{PREFIX}/cgu/?error=invalidCaptcha")
        self.passed.add(session)
        return redirect(f"{PREFIX}/creneau/")

    def landing(self) -> str:
        if self.state.failure == "changed":
            return page(
                "Démarche",
                "<h1>Cette démarche n'est plus proposée en ligne</h1><p>Contactez la préfecture par courriel.</p>",
            )
        return page(
            "Titre de séjour",
            f"""<h1>Demande de titre de séjour</h1><p>Préfecture de l'Allier - Moulins</p>
<p>Munissez-vous de votre passeport et d'un justificatif de domicile.</p>
<a class="{Q_BTN}" href="{PREFIX}/cgu/"><span class="q-btn__content">Prendre un rendez-vous</span></a>""",
        )

    def cgu(self, error: str | None) -> str:
        notice = ""
        if error == "invalidCaptcha":
            notice = '<div class="fr-alert fr-alert--error">Le code de sécurité saisi est incorrect.</div>'
        elif error == "errorSessionInvalide":
            notice = '<div class="fr-alert fr-alert--warning">Votre session a expiré. Veuillez recommencer.</div>'
        return page("Constituez votre dossier", f"<h1>Constituez votre dossier</h1>{notice}{self.captcha_form()}")

    def captcha_form(self) -> str:
        button = f'<button type="submit" class="{Q_BTN}"><span class="q-btn__content">Suivant</span></button>'
        if self.state.captcha == "none":
            return f'<form method="post" action="{PREFIX}/cgu/"><p>Conditions générales acceptées.</p>{button}</form>'
        if self.state.captcha == "recaptcha":
            return f'<form method="post"><div class="g-recaptcha" data-sitekey="local"></div>{button}</form>'
        captcha_id = secrets.token_hex(8)
        code = "".join(secrets.choice("ABCDEFHJKLMNPRSTUVWXYZ23456789") for _ in range(6))
        self.captchas[captcha_id] = code
        self.last_captcha_id = captcha_id
        return f"""<form method="post" action="{PREFIX}/cgu/" class="fr-form">
<fieldset class="fr-fieldset"><legend>Code de sécurité</legend>
<div class="captcha"><img id="captchaFR_CaptchaImage" src="{captcha_png(code)}" alt="Code de sécurité"></div>
<input type="hidden" name="captchaId" value="{captcha_id}">
<label class="fr-label" for="captchaFormulaireExtInput">Recopiez le code de sécurité affiché ci-dessus</label>
<input class="fr-input" type="text" id="captchaFormulaireExtInput" name="captchaUsercode" autocomplete="off">
</fieldset>{button}</form>"""

    def creneau(self) -> str:
        state = self.state
        first = state.slots[0] if state.availability == "slots" and state.slots else None
        if state.availability == "later":
            first = state.next_available
        critere = {
            "datePremiereDispo": first.strftime("%Y-%m-%d") if first else "",
            "dateMin": "2026-11-30",
            "dateMax": "2027-02-28",
        }
        data = json.dumps({"demarche": int(DEMARCHE), "critere": critere, "html": self.creneau_body()})
        script = f"""<script>window.__RDVPREF__ = {data};
setTimeout(function () {{ document.getElementById('creneaux').innerHTML = window.__RDVPREF__.html; }},
{state.render_delay_ms});</script>"""
        return page("Choisissez votre créneau", '<h1>Choisissez votre créneau</h1><div id="creneaux"></div>' + script)

    def creneau_body(self) -> str:
        state = self.state
        published = (
            f'<p class="text-caption">Dernière mise en ligne : <b>{escape(state.last_published)}</b></p>'
            if state.last_published
            else ""
        )
        if state.availability == "slots":
            return self.cards() + published
        none = (
            '<div class="q-banner"><div class="text-h6">Aucun créneau disponible</div>'
            "<div>Veuillez réessayer ultérieurement.</div></div>"
        )
        if state.availability == "later":
            later = state.next_available
            button = (
                f'<button type="button" class="{Q_BTN}"><span class="q-btn__content">Prochaine disponibilité le '
                f"<b>{french_day(later)} à {later:%H:%M}</b></span></button>"
            )
            return none + button + published
        return none + published

    def cards(self) -> str:
        items = "".join(
            f'<li class="row cellule justify-center"><label class="radio-card" for="trhId_{1000 + i}">'
            f'<input type="radio" name="trhId" id="trhId_{1000 + i}" value="{1000 + i}">'
            f'<span class="jour">{french_day(slot)}</span> <span class="heure">{slot:%H:%M}</span></label></li>'
            for i, slot in enumerate(self.state.slots)
        )
        return f'<ul class="creneaux">{items}</ul><button type="button" class="{Q_BTN}">Suivant</button>'


CHALLENGE_PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Un instant…</title></head>
<body><div class="main-wrapper"><h1>www.rdv-prefecture.interieur.gouv.fr</h1>
<p>Vérifiez que vous êtes humain en effectuant l'action ci-dessous.</p>
<div class="cf-turnstile" data-sitekey="local"></div></div></body></html>"""
