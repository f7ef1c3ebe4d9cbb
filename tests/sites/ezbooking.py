"""An imitation of the ezbooking module of the prefectures' sites (field notes 3.1), states included."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.sites.server import Reply, Request, Site, redirect

FORM_ID = "989"
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


def default_slots() -> list[int]:
    return [
        int(datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()),
        int(datetime(2026, 12, 7, 9, 15, tzinfo=UTC).timestamp()),
    ]


@dataclass
class EzState:
    availability: str = "none"  # "none" or "slots"
    guichets: dict[str, str] = field(default_factory=lambda: {"990": "Remise de titre de séjour"})
    cookie_banner: bool = True
    failure: str | None = None  # "502", "403", "429", "hang", "changed"
    slots: list[int] = field(default_factory=default_slots)
    hang_seconds: float = 20.0


def page(step: int, title: str, body: str, *, banner: bool = False) -> str:
    bar = "".join(
        f'<li><img src="/extension/images/etape_{i + 1}{"r" if i + 1 == step else ""}.png" alt="">{name}</li>'
        for i, name in enumerate(STEPS)
    )
    cookies = (
        '<div id="cookies-banner" style="position:fixed;bottom:0;left:0;right:0;height:180px;'
        'background:#333;color:#fff;z-index:99">Ce site utilise des cookies. '
        '<a href="#" onclick="this.parentNode.style.display=\'none\';return false;">Accepter</a></div>'
        if banner
        else ""
    )
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>{title} - Les services de l'État dans le département</title></head>
<body><div id="header">Préfecture de police</div><ul class="steps">{bar}</ul>
<div id="inner_Booking">{body}</div>{cookies}</body></html>"""


class EzBookingSite(Site):
    def __init__(self, state: EzState | None = None) -> None:
        super().__init__()
        self.state = state or EzState()

    @property
    def prefix(self) -> str:
        return f"/booking/create/{FORM_ID}"

    def handle(self, request: Request) -> Reply:
        s = self.state
        if s.failure == "502":
            return Reply(
                502,
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                "</h1></center><hr><center>nginx</center></body></html>",
            )
        if s.failure == "403":
            return Reply(
                403,
                "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1></body></html>",
            )
        if s.failure == "429":
            return Reply(429, "<html><body>Too Many Requests</body></html>", headers={"Retry-After": "120"})
        if s.failure == "hang":
            return Reply(200, "<html><body>late</body></html>", delay=s.hang_seconds)
        if request.path.startswith("/ezjscore/call/"):
            return self.calendar()
        if not request.path.startswith(self.prefix):
            return Reply(404, "<html><body>Page introuvable</body></html>")
        step = request.path[len(self.prefix) :].strip("/") or "0"
        return self.step(step, request)

    def step(self, step: str, request: Request) -> Reply:
        cookie = {"Set-Cookie": "eZSESSID=abc123; Path=/; HttpOnly"}
        if step == "0":
            if request.method == "POST" and request.form.get("condition") == "on":
                target = "1" if len(self.state.guichets) > 1 else self.after_choice()
                return redirect(f"{self.prefix}/{target}", headers=cookie)
            return Reply(200, self.start_page(), headers=cookie)
        if step == "1":
            if request.method == "POST" and request.form.get("planning") in self.state.guichets:
                return redirect(f"{self.prefix}/{self.after_choice()}")
            return Reply(200, self.choice_page())
        if step == "2":
            return Reply(200, self.no_slot_page())
        if step == "3":
            if request.method == "POST":
                return redirect(f"{self.prefix}/4")
            return Reply(
                200,
                page(
                    2,
                    "Descriptif",
                    '<h2>Descriptif</h2><form method="post" id="FormBookingCreate">'
                    "<p>Pièces à fournir : passeport, justificatif de domicile.</p>"
                    '<input type="submit" name="nextButton" value="Etape suivante"></form>',
                ),
            )
        if step == "4":
            return Reply(200, self.calendar_page())
        return Reply(
            200,
            page(
                4,
                "Contrôle de sécurité",
                '<h2>Contrôle de sécurité</h2><div class="g-recaptcha" data-sitekey="x"></div>',
            ),
        )

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
<form method="post" id="FormBookingCreate"><p>Que souhaitez-vous effectuer ?</p>
<fieldset id="fchoix_Booking">{radios}</fieldset>
<input type="submit" name="nextButton" value="Etape suivante"></form>""",
        )

    def no_slot_page(self) -> str:
        return page(
            3,
            "Vérification de disponibilité",
            f"""<h2>Vérification de disponibilité</h2>
<form method="post" id="FormBookingCreate">{NO_SLOT_TEXT}
<input type="submit" name="finishButton" value="Terminer"></form>""",
        )

    def calendar_page(self) -> str:
        return page(
            3,
            "Choix d'une plage",
            f"""<h2>Choix d'une plage horaire</h2>
<form method="post" id="FormBookingCreate"><div id="calendar">Chargement…</div>
<input type="submit" name="nextButton" value="Première plage horaire libre"></form>
<script>
fetch('/ezjscore/call/bookingserver::planning::assign::{FORM_ID}::990::0')
  .then(r => r.text()).then(t => {{ document.getElementById('calendar').innerHTML = t; }});
</script>""",
        )

    def calendar(self) -> Reply:
        cells = "".join(f'<td><a href="{self.prefix}/5/{ts}">libre</a></td>' for ts in self.state.slots)
        return Reply(200, f'<table class="planning"><tr><th>lun. 07/12</th></tr><tr>{cells}<td>-</td></tr></table>')
