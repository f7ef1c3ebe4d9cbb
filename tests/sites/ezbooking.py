"""An imitation of the ezbooking module of the prefectures' sites (field notes 3.1), states included.

Flow: GET /booking/create/<form> (conditions, sets eZSESSID) -> POST condition=on -> /1 (guichet choice,
only when several desks) -> /2 (no slot) or /3 (Descriptif) -> /4 (week calendar loaded by AJAX from
/ezjscore/call/bookingserver::planning::assign::<form>::<planning>::<dayOffset>; free slots link to /5/<ts>).
Steps after /1 need the session cookie, as on the real site (without it you are sent back to the start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.sites.server import Reply, Request, Site, redirect

FORM_ID = "989"
SESSION = "eZSESSID"
NO_SLOT_TEXT = (
    "Il n\u2019existe plus de plage horaire libre pour votre demande de rendez-vous. "
    "Veuillez recommencer ult&eacute;rieurement."
)
STEPS = (
    "Prise de RDV",
    "Descriptif",
    "Choix d'une plage",
    "Contrôle de sécurité",
    "Cordonnées personnelles",
    "Valider et terminer",
)
# A full-screen overlay, as on sites whose banner must be dismissed before anything can be clicked.
BANNER = (
    '<div id="cookies-banner" style="position:fixed;inset:0;background:rgba(0,0,0,.85);color:#fff;'
    'z-index:99;padding:40% 2em 0">Ce site utilise des cookies pour mesurer son audience. '
    '<a href="#" onclick="this.parentNode.style.display=\'none\';return false;">Accepter</a> '
    '<a href="#">Personnaliser</a></div>'
)


def default_slots() -> list[int]:
    return [
        int(datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()),
        int(datetime(2026, 12, 7, 9, 15, tzinfo=UTC).timestamp()),
        int(datetime(2026, 12, 9, 13, 30, tzinfo=UTC).timestamp()),
    ]


@dataclass
class EzState:
    availability: str = "none"  # "none" or "slots"
    guichets: dict[str, str] = field(default_factory=lambda: {"990": "Remise de titre de séjour"})
    cookie_banner: bool = True
    failure: str | None = None  # "502", "403", "429", "hang", "changed"
    failure_from: int = 0  # the failure starts at this step (0: from the first request)
    slots: list[int] = field(default_factory=default_slots)
    hang_seconds: float = 30.0
    chosen: list[str] = field(default_factory=list)  # planning ids the visitors picked, in order


def page(step: int, title: str, body: str, *, banner: bool = False) -> str:
    bar = "".join(
        f'<li><img src="/extension/images/etape_{i + 1}{"r" if i + 1 == step else ""}.png" alt="">{name}</li>'
        for i, name in enumerate(STEPS)
    )
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>{title} - Les services de l'État dans le département</title></head>
<body><div id="header">Préfecture de police</div><ul class="steps">{bar}</ul>
<div id="inner_Booking">{body}</div>{BANNER if banner else ""}</body></html>"""


def failure_reply(kind: str, hang_seconds: float) -> Reply | None:
    """The ugly states of field notes 3.1: nginx 502 after bursts, 403 for blocked addresses, and worse."""
    if kind == "502":
        return Reply(
            502,
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
            "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
            headers={"Server": "nginx"},
        )
    if kind == "403":
        return Reply(403, "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1></body></html>")
    if kind == "429":
        return Reply(429, "<html><body>Too Many Requests</body></html>", headers={"Retry-After": "120"})
    if kind == "hang":
        return Reply(200, "<html><body>late</body></html>", delay=hang_seconds)
    return None


class EzBookingSite(Site):
    def __init__(self, state: EzState | None = None) -> None:
        super().__init__()
        self.state = state or EzState()

    @property
    def prefix(self) -> str:
        return f"/booking/create/{FORM_ID}"

    def handle(self, request: Request) -> Reply:
        s = self.state
        failing = s.failure is not None and self.step_of(request) >= s.failure_from
        failed = failure_reply(s.failure or "", s.hang_seconds) if failing else None
        if failed is not None:
            return failed
        if request.path.startswith("/ezjscore/call/"):
            return self.calendar(request)
        if not request.path.startswith(self.prefix):
            return Reply(404, "<html><body>Page introuvable</body></html>")
        step = request.path[len(self.prefix) :].strip("/") or "0"
        if step != "0" and SESSION not in request.cookies:
            return redirect(self.prefix)
        return self.step(step, request)

    def step_of(self, request: Request) -> int:
        if request.path.startswith("/ezjscore/"):
            return 4
        rest = request.path[len(self.prefix) :].strip("/").split("/")[0]
        return int(rest) if rest.isdigit() else 0

    def step(self, step: str, request: Request) -> Reply:
        if step == "0":
            return self.start(request)
        if step == "1":
            if request.method == "POST" and request.form.get("planning") in self.state.guichets:
                self.state.chosen.append(request.form["planning"])
                return redirect(f"{self.prefix}/{self.after_choice()}")
            return Reply(200, self.choice_page())
        if step == "2":
            return Reply(200, self.no_slot_page())
        if step == "3":
            if request.method == "POST":
                return redirect(f"{self.prefix}/4")
            return Reply(200, self.descriptif_page())
        if step == "4":
            return Reply(200, self.calendar_page())
        # /5/<ts> would hold a slot and /6 is the reCAPTCHA: a monitor must never come here.
        return Reply(
            200,
            page(4, "Contrôle de sécurité", '<h2>Contrôle de sécurité</h2><div class="g-recaptcha" data-sitekey="x">'),
        )

    def start(self, request: Request) -> Reply:
        cookie = {"Set-Cookie": f"{SESSION}=abc123; Path=/; HttpOnly"}
        if request.method == "POST" and request.form.get("condition") == "on":
            if len(self.state.guichets) > 1:
                return redirect(f"{self.prefix}/1", headers=cookie)
            self.state.chosen.extend(self.state.guichets)
            return redirect(f"{self.prefix}/{self.after_choice()}", headers=cookie)
        return Reply(200, self.start_page(), headers=cookie)

    def after_choice(self) -> str:
        return "3" if self.state.availability == "slots" else "2"

    def start_page(self) -> str:
        if self.state.failure == "changed":
            return page(
                1,
                "Nouveau service",
                "<h2>Le service de prise de rendez-vous évolue</h2><p>Rendez-vous sur notre nouvelle plateforme.</p>",
            )
        return page(
            1,
            "Prise de RDV",
            f"""<h2>Prise de rendez-vous</h2>
<form method="post" id="FormBookingCreate" action="{self.prefix}">
<p><input type="checkbox" id="condition" name="condition" value="on">
<label for="condition">Veuillez cocher la case pour accepter les conditions d'utilisation avant de continuer
le processus de prise de rendez-vous.</label></p>
<div id="submit_Booking"><input type="submit" name="nextButton" value="Effectuer une demande de rendez-vous">
<a href="/booking/manage">Annuler, consulter et gérer mes demandes de rendez-vous</a></div>
</form>""",
            banner=self.state.cookie_banner,
        )

    def choice_page(self) -> str:
        radios = "".join(
            f'<p class="Bligne"><input type="radio" name="planning" id="planning{i}" value="{i}">'
            f'<label for="planning{i}">{label}</label></p>'
            for i, label in self.state.guichets.items()
        )
        return page(
            1,
            "Choix de la nature du rendez-vous",
            f"""<h2>Choix de la nature du rendez-vous</h2>
<form method="post" id="FormBookingCreate" action="{self.prefix}/1"><p>Que souhaitez-vous effectuer ?</p>
<fieldset id="fchoix_Booking">{radios}</fieldset>
<input type="submit" name="nextButton" value="Etape suivante"></form>""",
        )

    def no_slot_page(self) -> str:
        return page(
            3,
            "Vérification de disponibilité",
            f"""<h2>Vérification de disponibilité</h2>
<form method="post" id="FormBookingCreate" action="{self.prefix}/2">{NO_SLOT_TEXT}
<input type="submit" name="finishButton" value="Terminer"></form>""",
        )

    def descriptif_page(self) -> str:
        return page(
            2,
            "Descriptif",
            f"""<h2>Descriptif</h2><form method="post" id="FormBookingCreate" action="{self.prefix}/3">
<p>Pièces à fournir : passeport, justificatif de domicile.</p>
<input type="submit" name="nextButton" value="Etape suivante"></form>""",
        )

    def calendar_page(self) -> str:
        planning = self.state.chosen[-1] if self.state.chosen else "0"
        return page(
            3,
            "Choix d'une plage",
            f"""<h2>Choix d'une plage horaire</h2>
<form method="post" id="FormBookingCreate" action="{self.prefix}/4"><div id="calendar">Chargement…</div>
<input type="submit" name="nextButton" value="Première plage horaire libre"></form>
<script>
fetch('/ezjscore/call/bookingserver::planning::assign::{FORM_ID}::{planning}::0')
  .then(r => r.text()).then(t => {{ document.getElementById('calendar').innerHTML = t; }});
</script>""",
        )

    def calendar(self, request: Request) -> Reply:
        """The AJAX week: a header row of days, then one row of cells, free ones linking to /5/<ts>."""
        free = "".join(f'<td><a href="{self.prefix}/5/{ts}">libre</a></td>' for ts in self.state.slots)
        return Reply(
            200,
            '<table class="planning"><tr><th>lun. 07/12</th><th>mar. 08/12</th><th>mer. 09/12</th></tr>'
            f"<tr>{free}<td>-</td></tr></table>",
        )
