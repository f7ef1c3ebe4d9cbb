"""The French texts people receive. Rendered when an event is queued, so a retry sends exactly the same words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.alerts import Event
from monitor.digest import Coverage, Period
from monitor.domain import PARIS, CheckResult, Status, Watch

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
STATUS_WORDS: Mapping[str, str] = {
    Status.NO_SLOT: "aucun créneau",
    Status.SLOTS_AVAILABLE: "créneaux disponibles",
    Status.CAPTCHA: "captcha",
    Status.BLOCKED: "accès bloqué",
    Status.MAINTENANCE: "maintenance",
    Status.ERROR: "erreur",
    Status.UNKNOWN: "page non reconnue",
}
MAX_SLOTS_LISTED = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One notification: title, body, evidence files to attach (relative to the data dir), Apprise type."""

    title: str
    body: str
    attach: tuple[str, ...] = ()
    kind: str = "info"  # Apprise notify type: info, success, warning, failure

    def to_payload(self) -> dict[str, Any]:
        return {"title": self.title, "body": self.body, "attach": list(self.attach), "type": self.kind}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Message:
        return cls(
            title=str(payload["title"]),
            body=str(payload["body"]),
            attach=tuple(payload.get("attach") or ()),
            kind=str(payload.get("type") or "info"),
        )


def long_date(moment: datetime) -> str:
    """'lundi 7 décembre 2026 à 10:00' in Paris time."""
    local = moment.astimezone(PARIS)
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year} à {local:%H:%M}"


def when(moment: datetime) -> str:
    """'30/11/2026 à 08:15' in Paris time."""
    return f"{moment.astimezone(PARIS):%d/%m/%Y à %H:%M}"


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def for_event(event: Event, watch: Watch, result: CheckResult, *, dashboard: str, failures: int) -> Message:
    """The message for an event a check fired (`failures`: the length of the failing streak, for unhealthy)."""
    if event is Event.SLOTS:
        return slots(watch, result)
    if event is Event.SLOTS_GONE:
        body = f"Les créneaux signalés pour « {watch.title} » ne sont plus proposés"
        return Message(
            title=f"Plus de créneaux : {watch.title}", body=f"{body} (constaté le {when(result.checked_at)})."
        )
    if event is Event.CAPTCHA:
        return captcha(watch, result, dashboard)
    if event is Event.UNHEALTHY:
        return unhealthy(watch, result, dashboard, failures)
    if event is Event.RECOVERED:
        return Message(
            title=f"Surveillance rétablie : {watch.title}",
            body=f"Le site répond de nouveau (résultat le {when(result.checked_at)} : {status_word(result.status)}).",
            kind="success",
        )
    raise ValueError(f"no check message for event {event}")


def slots(watch: Watch, result: CheckResult) -> Message:
    lines = [f"Des créneaux sont apparus pour « {watch.title} » (constaté le {when(result.checked_at)})."]
    if result.slots:
        lines.append("Créneaux vus :")
        lines += [f"- {long_date(slot)}" for slot in result.slots[:MAX_SLOTS_LISTED]]
        if len(result.slots) > MAX_SLOTS_LISTED:
            lines.append(f"- … et {len(result.slots) - MAX_SLOTS_LISTED} autres")
    lines += ["", f"Réservez vous-même, vite : {watch.url}", "Capture d'écran datée jointe."]
    stamped = tuple(f.path for f in result.files if f.kind == "stamped")
    return Message(title=f"Créneaux disponibles : {watch.title}", body="\n".join(lines), attach=stamped, kind="success")


def captcha(watch: Watch, result: CheckResult, dashboard: str) -> Message:
    body = (
        f"Le site demande une vérification humaine pour « {watch.title} » ({when(result.checked_at)}). "
        f"rdv-monitor ne la contourne jamais : une personne doit la faire.\n"
        f"Ouvrez le tableau de bord : {dashboard.rstrip('/')}/assist"
    )
    return Message(title=f"Captcha à résoudre : {watch.title}", body=body, kind="warning")


def unhealthy(watch: Watch, result: CheckResult, dashboard: str, failures: int) -> Message:
    body = (
        f"Les {failures} dernières tentatives pour « {watch.title} » ont échoué "
        f"(dernière le {when(result.checked_at)} : {status_word(result.status)} — {result.reason}).\n"
        f"Le site a peut-être changé ou bloque les visites ; les tentatives continuent.\n"
        f"Tableau de bord : {dashboard}"
    )
    return Message(title=f"Surveillance en échec : {watch.title}", body=body, kind="failure")


def digest(period: Period, rows: Sequence[tuple[Watch, Coverage, Coverage]]) -> Message:
    """The periodic report: per watch, this period's attempts and the whole history's (the proof growing)."""
    span = "la semaine" if period.kind == "weekly" else "la journée"
    lines = [f"Bilan de {span} du {period.first:%d/%m/%Y} au {period.last:%d/%m/%Y}."]
    for watch, recent, total in rows:
        lines += ["", f"« {watch.title} »", f"- sur la période : {_counts(recent)}"]
        if total.first is not None:
            lines.append(
                f"- depuis le {total.first:%d/%m/%Y} : {_n(total.attempts, 'tentative')} "
                f"sur {_n(total.days, 'jour')} et {_n(total.weeks, 'semaine')}"
            )
    kind = "Bilan hebdomadaire" if period.kind == "weekly" else "Bilan quotidien"
    return Message(title=f"{kind} rdv-monitor", body="\n".join(lines))


def test_message(now: datetime) -> Message:
    return Message(
        title="rdv-monitor : message de test",
        body=f"Ceci est un message de test envoyé le {when(now)}. Si vous le lisez, les notifications fonctionnent.",
    )


def _counts(cov: Coverage) -> str:
    if not cov.attempts:
        return "aucune tentative"
    outcomes = ", ".join(f"{status_word(status)} {count}" for status, count in cov.outcomes.items())
    return f"{_n(cov.attempts, 'tentative')} sur {_n(cov.days, 'jour')} ({outcomes})"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"
