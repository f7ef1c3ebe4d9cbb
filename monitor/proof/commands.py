"""The `export` and `verify` subcommands (plugged into monitor.cli)."""

from __future__ import annotations

import argparse
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from monitor.app import load_app, open_storage
from monitor.proof.export import ExportReport, ExportRequest, export_archive
from monitor.proof.verify import verify_archive

DAY_FORMATS = ((re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"), (re.compile(r"\d{2}/\d{2}/\d{4}"), "%d/%m/%Y"))


def parse_day(text: str) -> date:
    """A calendar day as 2026-11-30 or 30/11/2026 (argparse turns the error into a one-line usage error)."""
    for shape, fmt in DAY_FORMATS:
        if shape.fullmatch(text.strip()):
            try:
                return datetime.strptime(text.strip(), fmt).date()
            except ValueError:
                break
    raise argparse.ArgumentTypeError(f"not a date: {text!r} (expected YYYY-MM-DD or DD/MM/YYYY)")


def add_parsers(sub: Any) -> None:
    export = sub.add_parser("export", help="write the proof archive (ZIP) of a watch's attempts, for a référé")
    export.add_argument("watch")
    export.add_argument("-o", "--output", required=True, type=Path, help="the ZIP to create (never overwritten)")
    export.add_argument("--from", dest="first_day", type=parse_day, help="first day, inclusive (Europe/Paris)")
    export.add_argument("--to", dest="last_day", type=parse_day, help="last day, inclusive (Europe/Paris)")
    verify = sub.add_parser("verify", help="check a proof archive: file hashes, records and chain links")
    verify.add_argument("archive", type=Path)


def cmd_export(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    watch = next((w for w in app.catalog.watches if w.id == args.watch), None)
    request = ExportRequest(
        watch_id=args.watch, output=args.output, first_day=args.first_day, last_day=args.last_day, watch=watch
    )
    storage = open_storage(app.settings)
    try:
        report = export_archive(storage, app.settings.data_dir, request)
    finally:
        storage.close()
    print("\n".join(describe(report)))
    return 0


def describe(report: ExportReport) -> list[str]:
    lines = [
        f"wrote {report.path}: {report.attempts} attempt(s), chain n° {report.first_seq} to {report.last_seq}, "
        f"{report.parts} capture PDF part(s), {report.size / 1e6:.1f} MB",
        f"  chain head          {report.head}",
        f"  manifest.json       SHA-256 {report.manifest_sha256}",
        f"  archive             SHA-256 {report.archive_sha256}",
    ]
    if report.anomalies:
        lines.append(f"  WARNING: {report.anomalies} anomaly(ies) found, listed in the journal and manifest.json")
    return lines


def cmd_verify(args: argparse.Namespace) -> int:
    report = verify_archive(args.archive)
    print("\n".join(report.lines()))
    return 0 if report.intact else 1


HANDLERS = {"export": cmd_export, "verify": cmd_verify}
