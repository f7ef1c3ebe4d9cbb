"""The French wording of the proof archive: outcome labels, method, how to verify. Text only, no layout."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from monitor.evidence import paris_stamp
from monitor.proof import names
from monitor.proof.summary import Tally

STATUS_FR = {
    "no_slot": "aucun créneau",
    "slots_available": "créneaux affichés",
    "captcha": "captcha",
    "blocked": "accès bloqué",
    "maintenance": "maintenance",
    "error": "erreur",
    "unknown": "page non reconnue",
}
STATUS_ORDER = tuple(STATUS_FR)
WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
VERSION_NAMES = {"rdv_monitor": "rdv-monitor", "playwright": "Playwright", "chromium": "Chromium", "python": "Python"}


def status_fr(status: str) -> str:
    return STATUS_FR.get(status, status)


def number(value: int) -> str:
    """9 000 rather than 9000: French grouping with a narrow no-break space."""
    return f"{value:,}".replace(",", "\u202f")


def day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def moment(value: datetime) -> str:
    """'30/11/2026 à 08:15:03 (heure de Paris, UTC+01:00)', as on the stamped captures."""
    return paris_stamp(value)


def weekday(value: date) -> str:
    return f"{WEEKDAYS[value.weekday()]} {value:%d/%m/%Y}"


def versions_line(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{VERSION_NAMES.get(k, k)} {v}" for k, v in pairs) or "non consignées"


def method(tally: Tally, first_seq: int, last_seq: int) -> list[tuple[str, str]]:
    """(title, paragraph) pairs for the method section."""
    ips = ", ".join(f"{ip} ({number(n)})" for ip, n in tally.server_ips.most_common()) or "non consignée"
    return [
        ("Comment chaque tentative est faite", _how(tally)),
        ("Ce qui est enregistré", RECORDED),
        ("Horloge", _clock(tally)),
        (
            "Adresses réseau",
            f"Adresse(s) IP du serveur du site, avec le nombre de tentatives : {ips}. L’adresse IP publique de la "
            "machine n’est pas consignée : la connaître supposerait d’interroger un service extérieur, ce que "
            "l’outil ne fait pas.",
        ),
        ("Chaîne d’empreintes", CHAIN),
        (
            "Exhaustivité",
            f"L’archive contient toutes les tentatives enregistrées pour cette démarche du n° {first_seq} au "
            f"n° {last_seq} de la chaîne, y compris les erreurs, les blocages et les captchas : aucune n’a été "
            "écartée.",
        ),
        ("Limites", LIMITS),
    ]


def _how(tally: Tally) -> str:
    return (
        "Chaque tentative est une visite automatique de la page de rendez-vous par un vrai navigateur Chromium "
        "sans interface, piloté par Playwright. Un profil de navigation vierge (sans cookies, sans cache, sans "
        "historique) est créé pour chaque tentative puis détruit ; "
        f"{number(tally.fresh_profile)} tentative(s) sur {number(tally.count)} portent cette mention. "
        "Le navigateur suit le parcours de prise de rendez-vous jusqu’à la page qui indique la disponibilité, "
        "sans jamais réserver ni retenir de créneau et sans jamais résoudre de captcha."
    )


def _clock(tally: Tally) -> str:
    return (
        "L’heure de chaque tentative vient de l’horloge de la machine (en UTC, affichée ici en heure de Paris). "
        "Comme repère indépendant, l’heure donnée par le serveur du site (en-tête HTTP Date) est conservée : "
        f"elle l’est pour {number(tally.server_dates)} tentative(s) ; elle concorde à 2 secondes près avec "
        f"l’horloge de la machine pendant la visite pour {number(tally.clock_agrees)} d’entre elles ; "
        f"écart maximal constaté : {tally.max_skew:.0f} s."
    )


RECORDED = (
    "Pour chaque tentative : la date et l’heure, le résultat constaté, l’URL finale, le code HTTP, l’en-tête "
    "Date du serveur, l’adresse IP du serveur, les versions des logiciels, et les fichiers : la capture d’écran "
    "de la page entière, une copie de cette capture portant un bandeau (date, heure, URL, démarche, résultat) et "
    "le code HTML de la page. L’empreinte SHA-256 de chaque fichier est calculée au moment de la capture. "
    "Les copies à bandeau sont jointes (pièce n° 2 et dossier captures) ; les empreintes de la capture brute et "
    "du code HTML figurent dans manifest.json, les fichiers eux-mêmes restent disponibles sur demande."
)
CHAIN = (
    "Chaque tentative est un enregistrement dont l’empreinte SHA-256 est calculée sur ses données (date, "
    "résultat, URL, empreintes des fichiers, versions) et sur l’empreinte de l’enregistrement précédent de la "
    "même démarche. Modifier, retirer ou réordonner une tentative change toutes les empreintes suivantes. "
    "La base de données de l’outil refuse la modification et la suppression des tentatives."
)
LIMITS = (
    "Aucun horodatage qualifié (RFC 3161) n’a été apposé : l’outil n’a accès à aucune autorité d’horodatage, "
    "et un horodatage non qualifié ne vaudrait pas présomption. Pour dater la chaîne auprès d’un tiers, "
    "l’empreinte de tête peut lui être communiquée au fil de l’eau (par exemple par courriel à l’avocat). "
    "Ce journal est produit par un logiciel ; il ne remplace pas un constat de commissaire de justice."
)


def how_to_verify(head: str) -> list[str]:
    return [
        "Avec l’outil, sur n’importe quelle machine, sans base de données : <b>rdv-monitor verify ARCHIVE.zip</b>. "
        "Il recalcule l’empreinte de chaque fichier, signale tout fichier ajouté, retiré ou modifié, recalcule "
        "l’empreinte de chaque enregistrement et vérifie les liens de la chaîne.",
        f"À la main : décompresser l’archive, puis dans le dossier obtenu : <b>sha256sum -c {names.SUMS}</b> "
        f"(Linux), <b>shasum -a 256 -c {names.SUMS}</b> (macOS) ou <b>Get-FileHash -Algorithm SHA256 FICHIER</b> "
        "(Windows PowerShell), et comparer avec la liste. L’empreinte de chaque capture figure aussi dans la liste "
        "chronologique ci-dessus et en tête de sa page dans la pièce n° 2.",
        f"Empreinte de tête de la chaîne (dernier enregistrement de l’archive) : <b>{head}</b>. "
        "La commande d’export affiche aussi l’empreinte de manifest.json, à conserver à part.",
    ]


def readme(label: str, head: str, parts: Sequence[str]) -> str:
    """LISEZ-MOI.txt: what is in the archive and how to check it by hand."""
    pieces = "\n".join(f"  {name}" for name in (names.JOURNAL, *parts))
    return f"""Archive de preuve rdv-monitor : {label}

Pièces :
{pieces}
Les captures horodatées sont aussi jointes une à une dans le dossier {names.CAPTURES_DIR}

Vérifier l'archive avec l'outil (aucune base de données nécessaire) :
  rdv-monitor verify ARCHIVE.zip

Vérifier à la main : décompresser l'archive, puis dans le dossier obtenu :
  sha256sum -c {names.SUMS}                 (Linux)
  shasum -a 256 -c {names.SUMS}             (macOS)
  Get-FileHash -Algorithm SHA256 FICHIER             (Windows PowerShell, comparer avec la liste)
Chaque ligne doit se terminer par OK. {names.SUMS} couvre tous les fichiers sauf manifest.json ;
manifest.json contient l'empreinte de chaque fichier et chaque enregistrement de la chaîne.

Empreinte de tête de la chaîne : {head}
Aucun horodatage qualifié (RFC 3161) n'a été apposé.
"""
