"""The export: what the ZIP holds, the journal's text, periods, refusals and anomalies (real storage, no browser)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from monitor.chain import GENESIS, record_hash, record_payload
from monitor.domain import CheckResult, Status
from monitor.errors import UserError
from monitor.proof import names
from monitor.proof.export import ExportReport, ExportRequest, export_archive
from monitor.proof.verify import verify_archive
from monitor.storage import Storage
from tests.conftest import CliRun, write_watches
from tests.unit.proof_history import WATCH, history, record

START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # Monday 2 November 2026, 08:00 in Paris
MOMENTS = [
    (START, Status.NO_SLOT),
    (START + timedelta(hours=1), Status.ERROR),
    (START + timedelta(days=1), Status.CAPTCHA),
    (START + timedelta(days=8), Status.NO_SLOT),
    (START + timedelta(days=8, hours=2), Status.NO_SLOT),
    (START + timedelta(days=16), Status.SLOTS_AVAILABLE),
    (START + timedelta(days=16, hours=3), Status.NO_SLOT),
]


@pytest.fixture
def data(workdir: Path) -> Path:
    return workdir / "data"


@pytest.fixture
def storage(data: Path) -> Iterator[Storage]:
    store = Storage(data / "rdv-monitor.sqlite3")
    yield store
    store.close()


@pytest.fixture
def stored(storage: Storage, data: Path) -> list[CheckResult]:
    return history(storage, data, MOMENTS)


Export = Callable[..., ExportReport]


@pytest.fixture
def export(storage: Storage, data: Path, workdir: Path) -> Export:
    def run(name: str = "preuve.zip", **fields: object) -> ExportReport:
        request = ExportRequest(watch_id=WATCH.id, output=workdir / name, **fields)  # type: ignore[arg-type]
        return export_archive(storage, data, request, clock=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    return run


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def test_the_archive_holds_every_piece_with_court_safe_names(
    export: Export, stored: list[CheckResult], data: Path
) -> None:
    report = export(watch=WATCH)
    files = members(report.path)
    captures = sorted(n for n in files if n.startswith(names.CAPTURES_DIR))
    assert set(files) == {
        names.JOURNAL,
        "02-captures-partie-1.pdf",
        names.MANIFEST_JSON,
        names.MANIFEST_CSV,
        names.SUMS,
        names.README,
        *captures,
    }
    assert captures[0] == "captures/0001-2026-11-02-0800-no-slot.png"
    assert [c.split("-", 5)[-1] for c in captures] == [
        "no-slot.png",
        "error.png",
        "captcha.png",
        "no-slot.png",
        "no-slot.png",
        "slots.png",
        "no-slot.png",
    ]
    assert all(names.is_court_safe(name) for name in files)
    assert all(names.starts_with_number(name) for name in files if name.endswith((".pdf", ".png")))
    for name, result in zip(captures, stored, strict=True):  # the stamped images, byte for byte
        stamped = next(f for f in result.files if f.kind == "stamped")
        assert files[name] == (data / stamped.path).read_bytes()
    assert (report.attempts, report.first_seq, report.last_seq, report.parts, report.anomalies) == (7, 1, 7, 1, 0)
    assert report.head == stored[-1].record_hash


def test_the_manifest_carries_every_file_hash_and_every_chain_record(export: Export, stored: list[CheckResult]) -> None:
    files = members(export(watch=WATCH).path)
    manifest = json.loads(files[names.MANIFEST_JSON])
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {names.MANIFEST_JSON}
    for name, item in listed.items():
        assert item["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert item["size"] == len(files[name])
    for raw, result in zip(manifest["records"], stored, strict=True):
        assert raw["payload"] == record_payload(result, seq=result.seq or 0, prev_hash=result.prev_hash or "")
        assert raw["record_hash"] == result.record_hash == record_hash(raw["payload"])
    assert manifest["records"][0]["payload"]["prev_hash"] == GENESIS
    assert manifest["chain"]["head"] == stored[-1].record_hash
    assert manifest["watch"] == {"id": WATCH.id, "label": WATCH.label, "url": WATCH.url, "platform": "ezbooking"}
    rows = list(csv.reader(io.StringIO(files[names.MANIFEST_CSV].decode("utf-8")), delimiter=";"))
    assert len(rows) == 1 + len(stored)
    assert rows[1][3] == "no_slot"
    assert rows[2][3] == "error"
    assert rows[1][8] == stored[0].record_hash
    sums = dict(reversed(line.split("  ", 1)) for line in files[names.SUMS].decode().splitlines())
    assert set(sums) == set(files) - {names.MANIFEST_JSON, names.SUMS}
    assert all(sums[n] == hashlib.sha256(files[n]).hexdigest() for n in sums)


def test_the_journal_shows_counts_url_no_slot_message_and_chain_head(export: Export, stored: list[CheckResult]) -> None:
    text = pdf_text(members(export(watch=WATCH).path)[names.JOURNAL])
    assert "Journal des tentatives de prise de rendez-vous" in text
    assert "Remise de titre de séjour, Paris" in text
    assert WATCH.url in text
    assert "Tentatives 7" in text
    assert "Jours distincts 4" in text
    assert "Semaines distinctes 3" in text
    assert "du 02/11/2026 au 18/11/2026" in text
    assert "aucun créneau (no_slot) : 4" in text
    assert "erreur (error) : 1" in text
    assert "captcha (captcha) : 1" in text
    assert "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous." in text
    assert stored[-1].record_hash in text
    assert "RFC 3161" in text
    assert "IP publique" in text
    assert "profil de navigation vierge" in text
    for result in stored:  # the chronological list: every attempt with its hashes
        assert result.record_hash in text
        assert next(f.sha256 for f in result.files if f.kind == "stamped") in text
    assert "2026-S45" in text
    assert "2026-S47" in text


def test_an_attempt_that_reached_no_page_shows_the_url_asked_for(export: Export, storage: Storage, data: Path) -> None:
    record(storage, data, START, Status.ERROR, final_url="about:blank")
    text = pdf_text(members(export(watch=WATCH).path)[names.JOURNAL])
    assert "about:blank" not in text
    assert f"aucune page reçue ; URL demandée : {WATCH.url}" in text


def test_the_capture_pdf_numbers_every_capture_with_its_hash(export: Export, stored: list[CheckResult]) -> None:
    files = members(export(watch=WATCH).path)
    reader = pypdf.PdfReader(io.BytesIO(files["02-captures-partie-1.pdf"]))
    assert len(reader.pages) == len(stored)
    first = reader.pages[0].extract_text()
    assert "Pièce n° 2" in first
    assert "capture 1 sur 7" in first
    assert "02/11/2026 à 08:00:00 (heure de Paris, UTC+01:00)" in first
    assert next(f.sha256 for f in stored[0].files if f.kind == "stamped") in first


def test_the_period_is_inclusive_paris_days_and_a_mid_chain_start_is_said(
    storage: Storage, data: Path, export: Export
) -> None:
    paris_midnight = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)  # 2 November 00:00 in Paris
    history(storage, data, [(paris_midnight - timedelta(minutes=1), Status.NO_SLOT)])  # 1 Nov 23:59 Paris
    history(
        storage,
        data,
        [(paris_midnight, Status.NO_SLOT), (paris_midnight + timedelta(hours=23, minutes=59), Status.ERROR)],
    )
    history(storage, data, [(paris_midnight + timedelta(days=1), Status.NO_SLOT)])  # 3 Nov 00:00 Paris
    report = export(first_day=date(2026, 11, 2), last_day=date(2026, 11, 2))
    assert (report.attempts, report.first_seq, report.last_seq) == (2, 2, 3)
    manifest = json.loads(members(report.path)[names.MANIFEST_JSON])
    assert manifest["period"] == {"from": "2026-11-02", "to": "2026-11-02", "tz": "Europe/Paris"}
    verdict = verify_archive(report.path)
    assert verdict.intact
    assert any("commence au n° 2" in note for note in verdict.notes)


def test_an_export_never_overwrites_and_leaves_no_temporary_file(
    export: Export, stored: list[CheckResult], workdir: Path
) -> None:
    (workdir / "preuve.zip").write_bytes(b"a lawyer's earlier archive")
    with pytest.raises(UserError, match="already exists"):
        export()
    assert (workdir / "preuve.zip").read_bytes() == b"a lawyer's earlier archive"
    export("other.zip")
    assert sorted(p.name for p in workdir.iterdir()) == ["data", "other.zip", "preuve.zip"]


def test_nothing_to_export_and_reversed_periods_are_one_line_errors(export: Export, stored: list[CheckResult]) -> None:
    with pytest.raises(UserError, match="no attempt recorded"):
        export(first_day=date(2027, 1, 1))
    with pytest.raises(UserError, match="is after"):
        export(first_day=date(2026, 11, 10), last_day=date(2026, 11, 9))
    with pytest.raises(UserError, match="no such directory"):
        export("missing/preuve.zip")


def test_a_capture_missing_from_the_data_folder_is_declared_not_hidden(
    export: Export, stored: list[CheckResult], data: Path
) -> None:
    stamped = next(f for f in stored[1].files if f.kind == "stamped")
    (data / stamped.path).unlink()
    report = export(watch=WATCH)
    assert report.anomalies == 1
    assert report.attempts == 7
    files = members(report.path)
    manifest = json.loads(files[names.MANIFEST_JSON])
    assert manifest["records"][1]["capture"] is None
    assert "absent" in manifest["records"][1]["note"]
    assert not any("-error.png" in name for name in files)
    assert "Anomalies constatées lors de l’export" in pdf_text(files[names.JOURNAL])
    verdict = verify_archive(report.path)
    assert verdict.intact
    assert any("tentative 2" in note for note in verdict.notes)


def test_a_record_edited_in_the_database_behind_the_tools_back_shows_up(
    export: Export, stored: list[CheckResult], data: Path
) -> None:
    with sqlite3.connect(data / "rdv-monitor.sqlite3") as db:  # someone bypasses the append-only trigger
        db.execute("DROP TRIGGER checks_no_update")
        db.execute("UPDATE checks SET status = 'slots_available' WHERE seq = 2")
    report = export(watch=WATCH)
    assert report.anomalies == 1
    verdict = verify_archive(report.path)
    assert not verdict.intact
    assert any("enregistrement 2" in problem and "contenu modifié" in problem for problem in verdict.problems)


def test_a_watch_removed_from_the_watch_file_is_still_exportable(
    storage: Storage, data: Path, env: dict[str, str], workdir: Path, run_cli: Callable[..., CliRun]
) -> None:
    history(storage, data, MOMENTS[:2])
    record(storage, data, START + timedelta(days=2), Status.NO_SLOT)
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": []})
    done = run_cli("export", WATCH.id, "-o", str(workdir / "old.zip"), "--from", "02/11/2026")
    assert done.code == 0, done.err
    assert "3 attempt(s)" in done.out
    assert "chain head" in done.out
    manifest = json.loads(members(workdir / "old.zip")[names.MANIFEST_JSON])
    assert manifest["watch"]["label"] == WATCH.label  # the last label the attempts recorded
    assert manifest["watch"]["url"] == WATCH.url


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01"], "not a date: '2026-13-01'"),
        (["--to", "yesterday"], "not a date: 'yesterday'"),
        ([], "the following arguments are required: -o/--output"),
    ],
)
def test_bad_export_arguments_are_one_line_errors(
    env: dict[str, str], run_cli: Callable[..., CliRun], workdir: Path, args: list[str], message: str
) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": []})
    output = ["-o", str(workdir / "x.zip")] if args else []
    done = run_cli("export", WATCH.id, *output, *args)
    assert done.code == 2
    assert len(done.err_lines) == 1
    assert message in done.err


def test_exporting_an_unknown_watch_says_so(env: dict[str, str], run_cli: Callable[..., CliRun], workdir: Path) -> None:
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": []})
    done = run_cli("export", "nowhere", "-o", str(workdir / "x.zip"))
    assert done.code == 2
    assert done.err_lines == ["rdv-monitor: no attempt recorded for watch 'nowhere' in the requested period"]
