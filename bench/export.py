"""Benchmark the proof export: three months at one attempt every 15 minutes (about 9,000), then verify.

The history is built through the real code: a few real checks against the local ezbooking imitation give
real screenshots and pages; every synthetic attempt then goes through EvidenceStore.write (stamped per
attempt, hashed, fsynced) and Storage.append_check (the hash chain) into a temporary data folder.
Screenshots are scaled down (--width) to keep the disk use and the build time reasonable.

    .venv/bin/python bench/export.py [--attempts 9000] [--width 640] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.app import checker
from monitor.config import Settings
from monitor.domain import CheckResult, Status, Watch
from monitor.evidence import Capture, EvidenceStore
from monitor.proof.export import ExportRequest, export_archive
from monitor.proof.verify import verify_archive
from monitor.runner import versions
from monitor.storage import Storage
from tests.sites.ezbooking import EzBookingSite, EzState
from tests.sites.server import LocalServer

START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
MIX = (  # one attempt in 40 of each kind but no_slot: errors and captcha walls are part of a real history
    (Status.ERROR, "HTTP 502 (proxy error)", "502"),
    (Status.CAPTCHA, "reCAPTCHA on the page (Contrôle de sécurité)", None),
    (Status.SLOTS_AVAILABLE, "2 free slot(s) in the calendar", "slots"),
)


def real_pages(workdir: Path) -> dict[str, tuple[bytes, str, str]]:
    """Screenshot, HTML and reason of real checks of the imitation: no slot, slots, 502."""
    data = workdir / "real"
    data.mkdir()
    state = EzState()
    found: dict[str, tuple[bytes, str, str]] = {}
    with LocalServer(EzBookingSite(state)) as server:
        watch = Watch(id="bench-real", url=f"{server.base}/booking/create/989", platform="ezbooking")
        settings = Settings(data_dir=data, host_gap_seconds=0, page_timeout_seconds=5, check_timeout_seconds=20)
        storage = Storage(settings.database_path)

        async def run() -> None:
            async with checker(settings, storage) as check:
                for key, availability, failure in (
                    ("none", "none", None),
                    ("slots", "slots", None),
                    ("502", "none", "502"),
                ):
                    state.availability, state.failure = availability, failure
                    result = await check.check(watch)
                    shot = next(f for f in result.files if f.kind == "screenshot")
                    page = next(f for f in result.files if f.kind == "html")
                    found[key] = ((data / shot.path).read_bytes(), (data / page.path).read_text(), result.reason)

        asyncio.run(run())
        storage.close()
    return found


def scaled(png: bytes, width: int) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build(data: Path, attempts: int, pages: dict[str, tuple[bytes, str, str]], width: int) -> Watch:
    """Append `attempts` attempts, one every 15 minutes, through EvidenceStore and Storage.append_check."""
    watch = Watch(
        id="prefecture-bench",
        url="https://www.example-prefecture.gouv.fr/booking/create/989",
        platform="ezbooking",
        label="Remise de titre de séjour – préfecture (banc d’essai)",
    )
    shots = {key: scaled(png, width) for key, (png, _, _) in pages.items()}
    store, storage = EvidenceStore(data), Storage(data / "rdv-monitor.sqlite3")
    stamp_versions = versions("156.0.7600.0")
    for batch in range(0, attempts, 500):  # one transaction per 500 attempts keeps the build quick
        with storage.writer() as session, session.begin():
            for i in range(batch, min(batch + 500, attempts)):
                result = _attempt(watch, i, store, shots, pages, stamp_versions)
                storage.append_check(result, platform=watch.platform, url=watch.url, session=session)
        print(f"  built {min(batch + 500, attempts)}/{attempts}", flush=True)
    storage.close()
    return watch


def _attempt(
    watch: Watch,
    i: int,
    store: EvidenceStore,
    shots: dict[str, bytes],
    pages: dict[str, tuple[bytes, str, str]],
    stamp_versions: dict[str, str],
) -> CheckResult:
    at = START + timedelta(minutes=15 * i)
    status, reason, key = _kind(i, pages)
    files = store.write(watch, at, watch.url, status, Capture(screenshot=shots[key], html=pages[key][1]))
    details = {
        "fresh_profile": True,
        "server_date": format_datetime(at - timedelta(seconds=1), usegmt=True),
        "server_ip": "192.0.2.10",
        "watch_label": watch.label,
    }
    return CheckResult(
        watch=watch.id,
        status=status,
        reason=reason,
        started_at=at - timedelta(seconds=3),
        checked_at=at,
        final_url=watch.url + "/2",
        http_status=502 if key == "502" else 200,
        files=files,
        details=details,
        versions=stamp_versions,
    )


def _kind(i: int, pages: dict[str, tuple[bytes, str, str]]) -> tuple[Status, str, str]:
    if i % 40 < len(MIX):
        status, reason, key = MIX[i % 40]
        return status, reason, key or "none"
    return Status.NO_SLOT, pages["none"][2], "none"


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure(label: str, work, heap: bool):  # type: ignore[no-untyped-def]
    """Run work in this (fresh) process; print wall time, peak RSS and, when asked, the Python heap peak."""
    if heap:
        tracemalloc.start()
    began = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    extra = f", Python heap peak {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB" if heap else ""
    print(f"{label}: {elapsed:.1f} s, peak RSS of the process {rss:.0f} MB{extra}", flush=True)
    return result


def phase(args: argparse.Namespace) -> None:
    """One measured step in a fresh process, so the peak RSS is the step's own."""
    data, out = Path(args.data), Path(args.out)
    if args.phase == "export":
        storage = Storage(data / "rdv-monitor.sqlite3")
        request = ExportRequest(watch_id="prefecture-bench", output=out)
        report = measure("export", lambda: export_archive(storage, data, request), args.heap)
        print(f"  archive {report.size / 1e6:.0f} MB, {report.parts} capture PDF part(s), {report.attempts} attempts")
    else:
        verdict = measure("verify", lambda: verify_archive(out), args.heap)
        print("  " + verdict.lines()[0])


def child(step: str, data: Path, out: Path, heap: bool) -> None:
    command = [sys.executable, __file__, "--phase", step, "--data", str(data), "--out", str(out)]
    subprocess.run(command + (["--heap"] if heap else []), check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=9000)
    parser.add_argument("--width", type=int, default=640, help="screenshot width in pixels (real: 1280)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--heap", action="store_true", help="also trace the Python heap (slower)")
    parser.add_argument("--phase", choices=["export", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase(args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="rdv-bench-export-"))
    try:
        pages = real_pages(workdir)
        data = workdir / "data"
        began = time.perf_counter()
        build(data, args.attempts, pages, args.width)
        print(
            f"history: {args.attempts} attempts built in {time.perf_counter() - began:.0f} s, "
            f"data folder {du(data) / 1e6:.0f} MB",
            flush=True,
        )
        out = workdir / "preuve.zip"
        child("export", data, out, args.heap)
        child("verify", data, out, args.heap)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
