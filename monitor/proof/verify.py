"""`rdv-monitor verify`: re-check a proof ZIP with nothing but the archive (no database, no data folder).

Every member is hashed against manifest.json (changed, added, removed), every record's hash is recomputed
from its canonical payload with `monitor.chain` (the same code that made it), the links between records
are followed, and each capture image is tied to the hash its record carried since capture time.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monitor.chain import GENESIS, record_hash
from monitor.errors import UserError
from monitor.proof import names
from monitor.proof.manifest import Entry, FileEntry, Manifest, ManifestError, load
from monitor.proof.wording import number

BLOCK = 1 << 20
MAX_PROBLEMS = 500
MAX_NOTES = 20
MAX_MANIFEST = 256 << 20  # about 170,000 attempts; a larger one is a ZIP bomb, not an export


@dataclass
class Report:
    """What verify found: problems make the archive not intact; notes are facts worth knowing."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    records: int = 0
    first_seq: int = 0
    last_seq: int = 0
    head: str = ""

    @property
    def intact(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        if self.intact:
            head = (
                f"ARCHIVE INTACTE (archive intact) : {number(self.files)} fichiers et {number(self.records)} "
                f"enregistrements vérifiés, chaîne n° {self.first_seq} à {self.last_seq}, tête {self.head}"
            )
        else:
            head = f"ARCHIVE ALTÉRÉE (archive altered) : {len(self.problems)} problème(s)"
        return [head, *_capped("  - ", self.problems, MAX_PROBLEMS), *_capped("  note : ", self.notes, MAX_NOTES)]


def _capped(prefix: str, items: Sequence[str], limit: int) -> list[str]:
    shown = [prefix + item for item in items[:limit]]
    return shown + ([f"{prefix}… et {len(items) - limit} autre(s)"] if len(items) > limit else [])


def verify_archive(path: Path) -> Report:
    """Check the archive at path; UserError (exit 2) only when it cannot be read as a ZIP at all."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{path}: not a readable ZIP archive ({exc})") from None
    with archive:
        report = Report()
        found = _manifest(archive, report)
        if found is not None:
            actual = _check_files(archive, found.files, report)
            _check_records(found, actual, report)
            _check_sums(archive, actual, report)
        return report


def _manifest(archive: zipfile.ZipFile, report: Report) -> Manifest | None:
    try:
        size = archive.getinfo(names.MANIFEST_JSON).file_size
        if size > MAX_MANIFEST:
            report.problems.append(
                f"manifest.json démesuré ({number(size)} octets, limite {number(MAX_MANIFEST)}) : non lu"
            )
            return None
        return load(archive.read(names.MANIFEST_JSON))  # zipfile never inflates past the declared size
    except KeyError:
        report.problems.append("manifest.json retiré : rien ne permet plus de vérifier l’archive")
    except (zipfile.BadZipFile, zlib.error, ManifestError) as exc:
        report.problems.append(f"manifest.json modifié ou illisible : {exc}")
    return None


def _check_files(archive: zipfile.ZipFile, listed: Sequence[FileEntry], report: Report) -> dict[str, str]:
    """Hash every member; report members changed, added, removed. Returns name -> actual SHA-256."""
    expected = {f.name: f for f in listed}
    if len(expected) != len(listed):
        report.problems.append("manifest.json liste un même fichier plusieurs fois")
    actual: dict[str, str] = {}
    seen: set[str] = set()
    for info in archive.infolist():
        if info.filename in seen:
            report.problems.append(f"fichier en double dans l’archive : {info.filename}")
            continue
        seen.add(info.filename)
        if info.filename == names.MANIFEST_JSON or (info.is_dir() and not info.file_size):
            continue  # an empty folder entry (a re-zipping tool adds them) carries nothing
        actual[info.filename] = _member_hash(archive, info)
        _compare(info, expected.get(info.filename), actual[info.filename], report)
    report.files = len(actual)
    for name in expected.keys() - actual.keys():
        report.problems.append(f"fichier retiré (removed) : {name}")
    return actual


def _member_hash(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest = hashlib.sha256()
    try:
        with archive.open(info) as member:
            for block in iter(lambda: member.read(BLOCK), b""):
                digest.update(block)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError):
        return "illisible"  # a damaged member (bad CRC): never equal to a real hash
    return digest.hexdigest()


def _compare(info: zipfile.ZipInfo, listed: FileEntry | None, actual: str, report: Report) -> None:
    if listed is None:
        report.problems.append(f"fichier ajouté (added) : {info.filename}")
    elif actual != listed.sha256 or info.file_size != listed.size:
        report.problems.append(
            f"fichier modifié (changed) : {info.filename} (SHA-256 attendu {listed.sha256}, trouvé {actual})"
        )


def _check_records(found: Manifest, actual: Mapping[str, str], report: Report) -> None:
    """Recompute each record's hash, follow the links, tie each capture to its record."""
    records = found.records
    report.records = len(records)
    if not records:
        report.problems.append("aucun enregistrement dans manifest.json")
        return
    _check_start(records[0], report)
    previous: Entry | None = None
    for index, entry in enumerate(records, start=1):
        _check_record(entry, index, previous, found, report)
        _check_capture(entry, actual, report)
        previous = entry
    report.first_seq, report.last_seq, report.head = records[0].seq, records[-1].seq, records[-1].record_hash
    _check_header(found, report)
    referenced = {e.capture for e in records if e.capture}
    for name in sorted(n for n in actual if n.startswith(names.CAPTURES_DIR) and n not in referenced):
        report.problems.append(f"capture rattachée à aucun enregistrement : {name}")


def _check_start(first: Entry, report: Report) -> None:
    prev = str(first.payload.get("prev_hash"))
    if first.seq == 1 and prev != GENESIS:
        report.problems.append("l’enregistrement n° 1 ne part pas de l’origine de la chaîne")
    elif first.seq != 1:
        report.notes.append(
            f"l’archive commence au n° {first.seq} de la chaîne ; son lien vers le n° {first.seq - 1} "
            f"({prev}) pointe hors de l’archive"
        )


def _check_record(entry: Entry, index: int, previous: Entry | None, found: Manifest, report: Report) -> None:
    label = f"enregistrement {entry.n} (chaîne n° {entry.payload.get('seq')})"
    if entry.n != index:
        report.problems.append(f"{label} : numéro {entry.n} à la position {index}")
    if record_hash(entry.payload) != entry.record_hash:
        report.problems.append(f"{label} : contenu modifié, son empreinte ne correspond plus")
    if entry.payload.get("watch") != _watch_id(found):
        report.problems.append(f"{label} : appartient à un autre suivi ({entry.payload.get('watch')})")
    if previous is None:
        return
    if entry.payload.get("prev_hash") != previous.record_hash or entry.seq != previous.seq + 1:
        report.problems.append(f"{label} : lien rompu avec l’enregistrement précédent (retrait ou réordonnancement)")


def _watch_id(found: Manifest) -> object:
    watch = found.header.get("watch")
    return watch.get("id") if isinstance(watch, dict) else None


def _check_capture(entry: Entry, actual: Mapping[str, str], report: Report) -> None:
    if entry.capture is None:
        report.notes.append(f"tentative {entry.n} : capture non jointe à l’export ({entry.note or 'absente'})")
        return
    if entry.capture not in actual:
        return  # already reported as removed
    if actual[entry.capture] != entry.file_hash("stamped"):
        report.problems.append(
            f"capture {entry.capture} : ne correspond pas à l’empreinte enregistrée lors de la tentative {entry.n}"
        )


def _check_header(found: Manifest, report: Report) -> None:
    chain = found.header.get("chain")
    if not isinstance(chain, dict):
        report.problems.append("manifest.json : description de la chaîne absente")
        return
    claimed = (chain.get("head"), chain.get("first_seq"), chain.get("last_seq"), chain.get("records"))
    if claimed != (report.head, report.first_seq, report.last_seq, report.records):
        report.problems.append("manifest.json : la tête ou l’étendue de la chaîne annoncée ne correspond pas")


def _check_sums(archive: zipfile.ZipFile, actual: Mapping[str, str], report: Report) -> None:
    """The by-hand checklist must agree with the files too (it is what a person will run)."""
    if names.SUMS not in actual:
        return
    try:
        text = archive.read(names.SUMS).decode("utf-8")
    except (zipfile.BadZipFile, zlib.error, UnicodeDecodeError):
        return  # already reported as changed
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if name in actual and actual[name] != digest:
            report.problems.append(f"{names.SUMS} : l’empreinte de {name} ne correspond pas")
