"""verify: intact archives pass; any change, addition or removal fails with a clear verdict and exit 1."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.domain import Status
from monitor.proof import names
from monitor.proof.export import ExportRequest, export_archive
from monitor.proof.verify import Report, verify_archive
from monitor.storage import Storage
from tests.conftest import CliRun
from tests.unit.proof_history import WATCH, history

START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
STATUSES = (Status.NO_SLOT, Status.ERROR, Status.CAPTCHA, Status.NO_SLOT, Status.SLOTS_AVAILABLE)
Change = Callable[[str, bytes], bytes | None]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real export, shared: every test tampers with its own copy."""
    root = tmp_path_factory.mktemp("proof")
    data = root / "data"
    storage = Storage(data / "rdv-monitor.sqlite3")
    try:
        history(storage, data, [(START + timedelta(days=i, hours=i), s) for i, s in enumerate(STATUSES)])
        request = ExportRequest(watch_id=WATCH.id, output=root / "preuve.zip", watch=WATCH)
        return export_archive(storage, data, request).path
    finally:
        storage.close()


def rewrite(
    source: Path, target: Path, change: Change = lambda name, data: data, add: dict[str, bytes] | None = None
) -> Path:
    """A copy of the ZIP where change() may alter (return new bytes) or drop (return None) any member."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info, data)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def first_capture(archive: Path) -> str:
    with zipfile.ZipFile(archive) as found:
        return next(n for n in found.namelist() if n.startswith(names.CAPTURES_DIR))


def edit_manifest(edit: Callable[[dict], None]) -> Change:  # type: ignore[type-arg]
    def change(name: str, data: bytes) -> bytes:
        if name != names.MANIFEST_JSON:
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest, ensure_ascii=False).encode("utf-8")

    return change


def test_an_intact_archive_passes(archive: Path, run_cli: Callable[..., CliRun]) -> None:
    report = verify_archive(archive)
    assert report.intact, report.problems
    assert (report.records, report.first_seq, report.last_seq) == (5, 1, 5)
    done = run_cli("verify", str(archive))
    assert done.code == 0
    assert done.out.startswith("ARCHIVE INTACTE (archive intact) : ")
    assert "5 enregistrements vérifiés, chaîne n° 1 à 5, tête " in done.out


def test_one_byte_changed_in_one_screenshot_fails(
    archive: Path, tmp_path: Path, run_cli: Callable[..., CliRun]
) -> None:
    target = first_capture(archive)

    def flip(name: str, data: bytes) -> bytes:
        return data[:-20] + bytes([data[-20] ^ 1]) + data[-19:] if name == target else data

    copy = rewrite(archive, tmp_path / "copy.zip", flip)
    done = run_cli("verify", str(copy))
    assert done.code == 1
    lines = done.out.splitlines()
    assert lines[0].startswith("ARCHIVE ALTÉRÉE (archive altered) : ")
    assert any(f"fichier modifié (changed) : {target}" in line for line in lines)
    assert any(f"capture {target} : ne correspond pas" in line for line in lines)


def test_a_byte_changed_inside_the_zip_file_itself_fails(archive: Path, tmp_path: Path) -> None:
    raw = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as found:
        info = found.getinfo(first_capture(archive))
    raw[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF  # inside the stored PNG: the CRC no longer matches
    copy = tmp_path / "copy.zip"
    copy.write_bytes(bytes(raw))
    report = verify_archive(copy)
    assert not report.intact
    assert any(info.filename in problem for problem in report.problems)


def test_a_removed_file_fails(archive: Path, tmp_path: Path) -> None:
    target = first_capture(archive)
    report = verify_archive(rewrite(archive, tmp_path / "copy.zip", lambda n, d: None if n == target else d))
    assert not report.intact
    assert f"fichier retiré (removed) : {target}" in report.problems


def test_an_added_file_fails(archive: Path, tmp_path: Path) -> None:
    copy = rewrite(archive, tmp_path / "copy.zip", add={"captures/0006-2026-11-09-0800-no-slot.png": b"png"})
    report = verify_archive(copy)
    assert "fichier ajouté (added) : captures/0006-2026-11-09-0800-no-slot.png" in report.problems


def test_an_edited_record_in_the_manifest_fails(archive: Path, tmp_path: Path) -> None:
    def edit(manifest: dict) -> None:  # type: ignore[type-arg]
        manifest["records"][1]["payload"]["status"] = "no_slot"  # turn the error into a no-slot

    report = verify_archive(rewrite(archive, tmp_path / "copy.zip", edit_manifest(edit)))
    assert any("enregistrement 2 (chaîne n° 2) : contenu modifié" in p for p in report.problems)


def test_a_cleanly_removed_attempt_breaks_the_chain(archive: Path, tmp_path: Path) -> None:
    """A careful forger drops attempt 2, its image and its file entry, and renumbers: the links still tell."""
    with zipfile.ZipFile(archive) as found:
        gone = json.loads(found.read(names.MANIFEST_JSON))["records"][1]["capture"]

    def edit(manifest: dict) -> None:  # type: ignore[type-arg]
        del manifest["records"][1]
        for number, item in enumerate(manifest["records"], start=1):
            item["n"] = number
        manifest["files"] = [f for f in manifest["files"] if f["name"] != gone]
        manifest["chain"]["records"] -= 1

    copy = rewrite(archive, tmp_path / "copy.zip", lambda n, d: None if n == gone else edit_manifest(edit)(n, d))
    report = verify_archive(copy)
    assert any("lien rompu" in p for p in report.problems)


def test_a_swapped_capture_with_a_matching_file_hash_is_still_caught(archive: Path, tmp_path: Path) -> None:
    """Replacing an image and its hash in the file list is not enough: the record holds the capture-time hash."""
    target, forged = first_capture(archive), b"\x89PNG forged"

    def edit(manifest: dict) -> None:  # type: ignore[type-arg]
        for item in manifest["files"]:
            if item["name"] == target:
                item["sha256"], item["size"] = hashlib.sha256(forged).hexdigest(), len(forged)

    def change(name: str, data: bytes) -> bytes:
        return forged if name == target else edit_manifest(edit)(name, data)

    report = verify_archive(rewrite(archive, tmp_path / "copy.zip", change))
    assert report.problems == [
        f"capture {target} : ne correspond pas à l’empreinte enregistrée lors de la tentative 1",
        f"{names.SUMS} : l’empreinte de {target} ne correspond pas",
    ]


def test_a_missing_manifest_fails(archive: Path, tmp_path: Path) -> None:
    report = verify_archive(
        rewrite(archive, tmp_path / "copy.zip", lambda n, d: None if n == names.MANIFEST_JSON else d)
    )
    assert report.problems == ["manifest.json retiré : rien ne permet plus de vérifier l’archive"]


def test_unreadable_input_is_a_one_line_error(tmp_path: Path, run_cli: Callable[..., CliRun]) -> None:
    (tmp_path / "notes.zip").write_text("not a zip at all")
    done = run_cli("verify", str(tmp_path / "notes.zip"))
    assert done.code == 2
    assert len(done.err_lines) == 1
    assert "not a readable ZIP archive" in done.err
    done = run_cli("verify", str(tmp_path / "absent.zip"))
    assert done.code == 2
    assert done.err_lines == [f"rdv-monitor: {tmp_path / 'absent.zip'}: no such file"]


def test_long_lists_of_notes_are_capped_in_the_printout() -> None:
    report = Report(notes=[f"tentative {i}" for i in range(30)], records=30)
    lines = report.lines()
    assert lines[0].startswith("ARCHIVE INTACTE")
    assert lines[-1] == "  note : … et 10 autre(s)"
    assert len(lines) == 1 + 20 + 1


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("seq", None, "payload seq is not a whole number"),
        ("seq", "abc", "payload seq is not a whole number"),
        ("files", 5, "payload files is not a list"),
    ],
)
def test_a_payload_of_the_wrong_shape_is_a_problem_not_a_traceback(
    archive: Path, tmp_path: Path, field: str, value: object, problem: str
) -> None:
    def edit(manifest: dict) -> None:  # type: ignore[type-arg]
        manifest["records"][0]["payload"][field] = value

    report = verify_archive(rewrite(archive, tmp_path / "copy.zip", edit_manifest(edit)))
    assert report.problems == [f"manifest.json modifié ou illisible : record 1: {problem}"]


def test_a_folder_entry_carrying_data_is_an_added_file(archive: Path, tmp_path: Path) -> None:
    report = verify_archive(rewrite(archive, tmp_path / "copy.zip", add={"cache/": b"hidden bytes"}))
    assert report.problems == ["fichier ajouté (added) : cache/"]


def test_a_second_manifest_is_reported(archive: Path, tmp_path: Path) -> None:
    """Two manifest.json members: tools disagree on which one counts, so the archive is not intact."""
    with zipfile.ZipFile(archive) as found:
        manifest = found.read(names.MANIFEST_JSON)
    with pytest.warns(UserWarning, match="Duplicate name"):
        copy = rewrite(archive, tmp_path / "copy.zip", add={names.MANIFEST_JSON: manifest})
    assert verify_archive(copy).problems == [f"fichier en double dans l’archive : {names.MANIFEST_JSON}"]


def test_an_oversized_manifest_is_not_read(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliRun]
) -> None:
    """A ZIP bomb in place of the manifest: refused from its declared size, before inflating anything."""
    monkeypatch.setattr("monitor.proof.verify.MAX_MANIFEST", 4096)  # the real limit is 256 MB
    done = run_cli("verify", str(archive))
    assert done.code == 1
    problem = done.out.splitlines()[1]
    assert problem.startswith("  - manifest.json démesuré (")
    assert problem.endswith(" octets, limite 4\u202f096) : non lu")


def test_a_deeply_nested_manifest_is_a_problem_not_a_traceback(archive: Path, tmp_path: Path) -> None:
    nested = b'{"format": "rdv-monitor-proof", "format_version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    report = verify_archive(
        rewrite(archive, tmp_path / "copy.zip", lambda n, d: nested if n == names.MANIFEST_JSON else d)
    )
    assert report.problems == [
        "manifest.json modifié ou illisible : manifest.json is nested too deeply to be one this tool wrote"
    ]
