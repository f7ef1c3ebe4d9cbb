"""Pièce n° 1, the journal des tentatives: a French PDF laid out with reportlab platypus.

The chronological list is fed to platypus lazily (`LazyStory`), one small table of rows at a time, so a
journal of 9,000 attempts never holds 9,000 rows of flowables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, Protocol
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from monitor.domain import PARIS
from monitor.proof import wording as fr
from monitor.proof.manifest import Entry
from monitor.proof.pdffonts import Fonts, latin1, register
from monitor.proof.summary import Tally, parse_http_date

ROWS_PER_TABLE = 25
URL_CHARS = 62
GRID_ROWS = 40
INK = colors.HexColor("#14213d")
PALE = colors.HexColor("#e8eef7")


class BinarySink(Protocol):
    def write(self, data: bytes, /) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Cover:
    """What the archive is about, for the first page."""

    watch: str
    label: str
    url: str
    platform: str
    period: tuple[date, date]  # Paris calendar days covered
    first_seq: int
    last_seq: int
    first_prev_hash: str
    generated_at: datetime
    parts: tuple[str, ...]  # the capture PDFs (pièce n° 2)


class LazyStory(list[Any]):
    """A story list that platypus consumes from the front and that refills itself from an iterator."""

    def __init__(self, source: Iterable[Any], ahead: int = 6) -> None:
        super().__init__()
        self._source: Iterator[Any] = iter(source)
        self._ahead = ahead

    def __len__(self) -> int:
        while super().__len__() < self._ahead:
            item = next(self._source, None)
            if item is None:
                break
            self.append(item)
        return super().__len__()


def write_journal(
    out: BinarySink, cover: Cover, tally: Tally, entries: Iterable[Entry], anomalies: Sequence[str]
) -> None:
    """Lay out the whole journal into out (a binary stream)."""
    styles = Styles(register())
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Journal des tentatives – {cover.label}",
        author="rdv-monitor",
    )
    story = LazyStory(_story(styles, cover, tally, entries, anomalies))
    footer = _footer(styles.fonts, cover)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


class Styles:
    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        base = ParagraphStyle("base", fontName=fonts.regular, fontSize=9, leading=12)
        self.body = base
        self.small = ParagraphStyle("small", base, fontSize=7, leading=8.6)
        self.title = ParagraphStyle("title", base, fontName=fonts.bold, fontSize=17, leading=22, spaceAfter=6)
        self.h1 = ParagraphStyle("h1", base, fontName=fonts.bold, fontSize=13, leading=17, spaceBefore=8, spaceAfter=5)
        self.h2 = ParagraphStyle("h2", base, fontName=fonts.bold, fontSize=10, leading=13, spaceBefore=5)
        self.quote = ParagraphStyle("quote", base, fontSize=11, leading=15, leftIndent=10, textColor=INK)

    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(self.fonts.safe(text), style or self.body)


def _story(st: Styles, cover: Cover, tally: Tally, entries: Iterable[Entry], anomalies: Sequence[str]) -> Iterator[Any]:
    yield from _summary(st, cover, tally)
    yield PageBreak()
    yield from _weeks(st, tally)
    yield from _grid(st, tally)
    yield PageBreak()
    yield from _method(st, cover, tally)
    yield from _anomalies(st, anomalies)
    yield PageBreak()
    yield st.p("Liste chronologique de toutes les tentatives", st.h1)
    yield from _chronology(st, entries)
    yield st.p("Comment vérifier cette archive", st.h1)
    yield from (st.p(text) for text in fr.how_to_verify(tally.head or ""))


def _summary(st: Styles, cover: Cover, tally: Tally) -> Iterator[Any]:
    yield st.p("Journal des tentatives de prise de rendez-vous", st.title)
    yield st.p(f"Pièce n° 1 – établi le {fr.moment(cover.generated_at)} par rdv-monitor")
    yield Spacer(1, 4 * mm)
    facts = [
        ("Démarche", escape(cover.label)),
        ("Page de rendez-vous", escape(cover.url)),
        ("Identifiant de suivi", f"{escape(cover.watch)} (plateforme {escape(cover.platform)})"),
        ("Période", f"du {fr.day(cover.period[0])} au {fr.day(cover.period[1])} (heure de Paris)"),
        ("Première et dernière tentative", _first_last(tally)),
        ("Tentatives", f"<b>{fr.number(tally.count)}</b>"),
        ("Jours distincts", f"<b>{fr.number(tally.days)}</b>"),
        ("Semaines distinctes", f"<b>{fr.number(len(tally.weeks))}</b> (semaines ISO, du lundi au dimanche)"),
        ("Résultats", _outcomes(tally)),
    ]
    yield _facts(st, facts)
    yield Spacer(1, 4 * mm)
    yield from _no_slot(st, tally)
    yield _integrity_box(st, cover, tally)


def _first_last(tally: Tally) -> str:
    if tally.first is None or tally.last is None:
        return "aucune"
    return f"le {fr.moment(tally.first)} ; le {fr.moment(tally.last)}"


def _outcomes(tally: Tally) -> str:
    found = [s for s in fr.STATUS_ORDER if tally.statuses[s]] + sorted(set(tally.statuses) - set(fr.STATUS_ORDER))
    return " ; ".join(f"{fr.status_fr(s)} ({s}) : <b>{fr.number(tally.statuses[s])}</b>" for s in found)


def _facts(st: Styles, rows: Sequence[tuple[str, str]]) -> Table:
    data = [[st.p(f"<b>{k}</b>"), st.p(v)] for k, v in rows]
    table = Table(data, colWidths=[62 * mm, 200 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, PALE)]))
    return table


def _no_slot(st: Styles, tally: Tally) -> Iterator[Any]:
    if tally.no_slot_message is None or tally.no_slot_at is None:
        yield st.p("Aucune tentative de la période n’a obtenu le message « pas de créneau » du site.")
        return
    yield st.p(f"Message affiché par le site (tentative du {fr.moment(tally.no_slot_at)}) :", st.h2)
    yield st.p(f"« {escape(tally.no_slot_message)} »", st.quote)
    yield Spacer(1, 4 * mm)


def _integrity_box(st: Styles, cover: Cover, tally: Tally) -> Table:
    start = (
        "début de la chaîne"
        if cover.first_seq == 1
        else f"la chaîne commence avant la période ; lien vers l’enregistrement n° {cover.first_seq - 1} : "
        f"<font name='Courier'>{cover.first_prev_hash}</font>"
    )
    lines = [
        "<b>Intégrité</b>",
        f"Enregistrements n° {cover.first_seq} à {cover.last_seq} de la chaîne d’empreintes SHA-256 ({start}).",
        f"Empreinte de tête de la chaîne : <font name='Courier'>{tally.head}</font>",
        "Chaque fichier de l’archive et chaque enregistrement figurent dans manifest.json avec leur empreinte ; "
        "vérification : « rdv-monitor verify ARCHIVE.zip » (voir la dernière section).",
        "Aucun horodatage qualifié (RFC 3161) n’est apposé.",
    ]
    box = Table([[st.p(line)] for line in lines], colWidths=[262 * mm])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1, INK), ("BACKGROUND", (0, 0), (-1, -1), PALE)]))
    return box


def _weeks(st: Styles, tally: Tally) -> Iterator[Any]:
    shown = [s for s in fr.STATUS_ORDER if tally.statuses[s]]
    head = ["Semaine", "Du", "Au", "Jours", "Tentatives", *(fr.status_fr(s) for s in shown)]
    rows: list[list[Any]] = [head]
    for (year, week), first, last, days, counts in tally.week_rows():
        total = sum(counts.values())
        rows.append([f"{year}-S{week:02d}", fr.day(first), fr.day(last), days, total, *(counts[s] for s in shown)])
    yield st.p("Tentatives par semaine", st.h1)
    yield _table(st, rows, repeat=1)


def _grid(st: Styles, tally: Tally) -> Iterator[Any]:
    yield st.p("Heures des tentatives, jour par jour (heure de Paris)", st.h1)
    days = sorted(tally.hours)
    for start in range(0, len(days), GRID_ROWS):
        rows: list[list[Any]] = [["Jour", *(f"{h}h" for h in range(24)), "Total"]]
        for day in days[start : start + GRID_ROWS]:
            counts = tally.hours[day]
            rows.append([fr.weekday(day), *(c or "" for c in counts), sum(counts)])
        table = Table(rows, colWidths=[26 * mm] + [9.3 * mm] * 24 + [13 * mm], repeatRows=1)
        style = _grid_style(st.fonts)
        for r, row in enumerate(rows[1:], start=1):
            style += [("BACKGROUND", (c, r), (c, r), PALE) for c in range(1, 25) if row[c]]
        table.setStyle(TableStyle(style))
        yield table


def _grid_style(fonts: Fonts) -> list[Any]:
    return [
        ("FONT", (0, 0), (-1, -1), fonts.regular, 6.5),
        ("FONT", (0, 0), (-1, 0), fonts.bold, 6.5),
        ("ALIGN", (1, 0), (-1, -1), "CENTER"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]


def _method(st: Styles, cover: Cover, tally: Tally) -> Iterator[Any]:
    yield st.p("Méthode", st.h1)
    for title, text in fr.method(tally, cover.first_seq, cover.last_seq):
        yield KeepTogether([st.p(title, st.h2), st.p(text)])
    yield st.p("Versions des logiciels", st.h2)
    for pairs, count in tally.versions.most_common():
        yield st.p(f"{fr.versions_line(pairs)} : {fr.number(count)} tentative(s)")


def _anomalies(st: Styles, anomalies: Sequence[str]) -> Iterator[Any]:
    if not anomalies:
        return
    yield st.p("Anomalies constatées lors de l’export", st.h1)
    yield from (st.p(escape(text), st.small) for text in anomalies)


def _chronology(st: Styles, entries: Iterable[Entry]) -> Iterator[Any]:
    head = ["N°", "Date et heure (Paris)", "Résultat", "URL finale ; heure du serveur", "Empreintes SHA-256"]
    source = iter(entries)
    while chunk := list(islice(source, ROWS_PER_TABLE)):
        rows = [head, *([st.fonts.safe(cell) for cell in _row(entry)] for entry in chunk)]
        table = Table(rows, colWidths=[14 * mm, 30 * mm, 30 * mm, 88 * mm, 111 * mm], repeatRows=1)
        table.setStyle(TableStyle(_list_style(st.fonts)))
        yield table


def _row(entry: Entry) -> list[str]:
    payload, local = entry.payload, entry.checked_at.astimezone(PARIS)
    http = payload.get("http_status")
    server = parse_http_date(entry.details.get("server_date"))
    note, url = _shown_url(entry)
    wrapped = note + ("\n".join(url[i : i + URL_CHARS] for i in range(0, len(url), URL_CHARS)) or "-")
    clock = f"serveur : {server:%d/%m/%Y %H:%M:%S} UTC" if server else "serveur : heure non reçue"
    capture = entry.file_hash("stamped") if entry.capture else None
    return [
        f"{entry.n}\nseq {entry.seq}",
        f"{local:%d/%m/%Y}\n{local:%H:%M:%S}",
        f"{fr.status_fr(entry.status)}\n{'HTTP ' + str(http) if http is not None else 'sans réponse'}",
        f"{wrapped}\n{clock}",
        f"capture  {capture or latin1(entry.note or 'absente')}\nenreg.   {entry.record_hash}",  # Courier
    ]


def _shown_url(entry: Entry) -> tuple[str, str]:
    """The final URL; when no page was reached (about:blank, nothing), the URL that was asked for, said so."""
    final = str(entry.payload.get("final_url") or "")
    asked = str(entry.details.get("watch_url") or "")
    if asked and (not final or final.startswith("about:")):
        return "aucune page reçue ; URL demandée :\n", asked
    return "", final


def _list_style(fonts: Fonts) -> list[Any]:
    return [
        ("FONT", (0, 0), (-1, -1), fonts.regular, 6.5),
        ("FONT", (0, 0), (-1, 0), fonts.bold, 7),
        ("FONT", (4, 1), (4, -1), "Courier", 6.2),
        ("LEADING", (0, 0), (-1, -1), 7.6),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), PALE),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]


def _table(st: Styles, rows: list[list[Any]], *, repeat: int) -> Table:
    table = Table(rows, repeatRows=repeat)
    table.setStyle(TableStyle([*_grid_style(st.fonts), ("BACKGROUND", (0, 0), (-1, 0), PALE)]))
    return table


def _footer(fonts: Fonts, cover: Cover) -> Any:
    text = fonts.safe(f"rdv-monitor · journal des tentatives · {cover.label} · n° {cover.first_seq}–{cover.last_seq}")

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 7)
        canvas.drawString(12 * mm, 6 * mm, text[:150])
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 6 * mm, f"page {doc.page}")
        canvas.restoreState()

    return draw
