"""An imitation of RDV Service Public's `prendre_rdv` search page (field notes 3.3), states included.

Markup follows the open-source application's views: DSFR buttons per slot (`starts_at=` in the link, an
aria-label "Choisir le créneau du …"), a "Prochaine disponibilité le …" link over an empty week, the
no-slot sentence with its typographic apostrophe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from monitor.messages import DAYS, MONTHS
from tests.sites.rdv_prefecture import french_day
from tests.sites.server import Reply, Request, Site

SEARCH = "motif_name_with_location_type=titre_de_sejour-public_office&public_link_organisation_id=2458"
NO_SLOT = "Malheureusement, aucun créneau correspondant à votre recherche n\u2019a été trouvé."
RETRY = " Veuillez réessayer ultérieurement."
WEEK_START = datetime(2026, 12, 7)


def default_slots() -> list[datetime]:
    return [datetime(2026, 12, 7, 9, 0), datetime(2026, 12, 7, 9, 30), datetime(2026, 12, 9, 14, 0)]


@dataclass
class RspState:
    availability: str = "none"  # "none", "slots", "later"
    failure: str | None = None  # "429", "maintenance", "500"
    retry_wording: bool = False  # the no-slot sentence followed by "Veuillez réessayer ultérieurement."
    slots: list[datetime] = field(default_factory=default_slots)
    next_available: datetime = datetime(2026, 12, 21, 10, 0)


def page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title} | RDV Service Public</title>
</head><body><header class="fr-header"><p class="fr-header__service-title">RDV Service Public</p></header>
<main class="fr-container">{body}</main><footer class="fr-footer">rdv.anct.gouv.fr</footer></body></html>"""


def rails_time(moment: datetime) -> str:
    return quote(f"{moment:%Y-%m-%d %H:%M:%S} +0100", safe="")


class RdvServicePublicSite(Site):
    def __init__(self, state: RspState | None = None) -> None:
        super().__init__()
        self.state = state or RspState()

    def handle(self, request: Request) -> Reply:
        kind = self.state.failure
        if kind == "429":
            return Reply(429, "<html><body>Retry later</body></html>", headers={"Retry-After": "90"})
        if kind == "maintenance":
            return Reply(503, MAINTENANCE_PAGE)
        if kind == "500":
            return Reply(500, page("Erreur", "<h1>Erreur inattendue</h1><p>L'équipe technique a été prévenue.</p>"))
        if request.path != "/prendre_rdv":
            return Reply(404, page("Page introuvable", "<h1>La page que vous cherchez n'existe pas</h1>"))
        return Reply(200, page("Prendre rendez-vous", self.search_page()))

    def search_page(self) -> str:
        recap = (
            '<div class="card"><h2>Demande de titre de séjour (sur place)</h2>'
            "<p>Préfecture - Service des étrangers</p></div>"
        )
        state = self.state
        if state.availability == "none":
            sentence = NO_SLOT + (RETRY if state.retry_wording else "")
            return (
                f'{recap}<div class="fr-alert fr-alert--info"><p>{sentence}</p></div>'
                '<h3>Élargissez votre recherche</h3><a class="fr-btn" href="/contact">'
                "Envoyer une demande d'ouverture de créneaux</a>"
            )
        return f"{recap}<h3>Sélectionnez un créneau :</h3>{self.week()}"

    def week(self) -> str:
        days = []
        for offset in range(7):
            day = WEEK_START + timedelta(days=offset)
            days.append(self.day_column(day))
        overlay = ""
        if self.state.availability == "later":
            later = self.state.next_available
            overlay = (
                f'<div class="bg-overlay"><a class="fr-btn fr-btn--secondary" href="/prendre_rdv?{SEARCH}'
                f'&date={later:%Y-%m-%d}"><div class="d-flex"><div>Prochaine disponibilité le<br>'
                f"<strong>{french_day(later)} à {later:%Hh%M}</strong></div></div></a></div>"
            )
        return f'<div class="row">{"".join(days)}{overlay}</div>'

    def day_column(self, day: datetime) -> str:
        head = f"<p><strong>{DAYS[day.weekday()]}</strong><br>{day.day} {MONTHS[day.month - 1][:4]}</p>"
        slots = [s for s in self.state.slots if s.date() == day.date()] if self.state.availability == "slots" else []
        if not slots:
            return f'<div class="fr-col">{head}<p class="fr-text--sm">Pas de créneau disponible</p></div>'
        buttons = "".join(
            f'<a class="fr-col-12 fr-btn fr-btn--tertiary" href="/prendre_rdv?{SEARCH}&motif_id=12'
            f'&starts_at={rails_time(s)}" aria-label="Choisir le créneau du {DAYS[s.weekday()]} {s.day} '
            f'{MONTHS[s.month - 1][:3]}. à {s:%H:%M}">{s:%H:%M}</a>'
            for s in slots
        )
        return f'<div class="fr-col">{head}<div class="fr-grid-row">{buttons}</div></div>'


MAINTENANCE_PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Service indisponible</title>
</head><body><h1>Service indisponible</h1><p>RDV Service Public est en cours de maintenance.
Merci de réessayer dans quelques minutes.</p></body></html>"""
