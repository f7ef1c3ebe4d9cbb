"""The proof archive end to end: real attempts (real Chromium) against the ezbooking imitation, exported
with `rdv-monitor export`, checked with `rdv-monitor verify`, then tampered with."""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest

from monitor.app import checker as make_checker
from monitor.app import load_app, open_storage
from monitor.domain import CheckResult, Status
from monitor.proof import names
from tests.conftest import CliRun, write_watches
from tests.sites.ezbooking import EzBookingSite, EzState
from tests.sites.server import LocalServer

pytestmark = pytest.mark.browser
LABEL = "Remise de titre de séjour – Préfecture de police"


def attempt_three_times(env: dict[str, str]) -> tuple[str, list[CheckResult]]:
    """No slot, a 502 from the proxy, then slots: three real checks recorded by the real runner."""
    state = EzState()
    with LocalServer(EzBookingSite(state)) as server:
        url = f"{server.base}/booking/create/989"
        entry = {"id": "paris-titre", "label": LABEL, "url": url, "options": {"planning": "990"}}
        write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [entry]})
        app = load_app(env)
        watch = app.catalog.watch("paris-titre")
        storage = open_storage(app.settings)

        async def run() -> list[CheckResult]:
            results = []
            async with make_checker(app.settings, storage) as checker:
                for availability, failure in (("none", None), ("none", "502"), ("slots", None)):
                    state.availability, state.failure = availability, failure
                    results.append(await checker.check(watch))
            return results

        try:
            return url, asyncio.run(run())
        finally:
            storage.close()


def test_real_attempts_export_to_a_verifiable_archive(
    env: dict[str, str], workdir: Path, run_cli: Callable[..., CliRun]
) -> None:
    url, results = attempt_three_times(env)
    assert [r.status for r in results] == [Status.NO_SLOT, Status.ERROR, Status.SLOTS_AVAILABLE]
    assert all(r.details.get("server_date") and r.details.get("server_ip") == "127.0.0.1" for r in results)

    archive = workdir / "preuve.zip"
    done = run_cli("export", "paris-titre", "-o", str(archive))
    assert done.code == 0, done.err
    assert "3 attempt(s), chain n° 1 to 3" in done.out

    with zipfile.ZipFile(archive) as found:
        files = {name: found.read(name) for name in found.namelist()}
    captures = sorted(n for n in files if n.startswith(names.CAPTURES_DIR))
    assert [c.split("-", 5)[-1] for c in captures] == ["no-slot.png", "error.png", "slots.png"]
    assert {names.JOURNAL, "02-captures-partie-1.pdf", names.MANIFEST_JSON, names.README} <= set(files)
    assert all(names.is_court_safe(n) for n in files)

    journal = re.sub(
        r"\s+", " ", "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(files[names.JOURNAL])).pages)
    )
    assert "Tentatives 3" in journal
    assert "Jours distincts 1" in journal
    assert "Semaines distinctes 1" in journal
    assert "aucun créneau (no_slot) : 1" in journal
    assert "erreur (error) : 1" in journal
    assert "créneaux affichés (slots_available) : 1" in journal
    assert url in journal
    # the message as the site wrote it (the imitation uses a typographic apostrophe), not our normalised form
    assert "Il n\u2019existe plus de plage horaire libre pour votre demande de rendez-vous." in journal
    assert results[-1].record_hash in journal
    manifest = json.loads(files[names.MANIFEST_JSON])
    assert [r["payload"]["status"] for r in manifest["records"]] == ["no_slot", "error", "slots_available"]
    assert manifest["records"][0]["payload"]["details"]["fresh_profile"] is True
    assert manifest["records"][0]["payload"]["versions"]["chromium"]
    assert manifest["records"][0]["payload"]["details"]["watch_label"] == LABEL  # in the chained record

    verified = run_cli("verify", str(archive))
    assert verified.code == 0, verified.out
    assert verified.out.startswith("ARCHIVE INTACTE")

    def copy_with(change: Callable[[str, bytes], bytes | None], name: str) -> Path:
        target = workdir / name
        with zipfile.ZipFile(archive) as old, zipfile.ZipFile(target, "w") as new:
            for info in old.infolist():
                data = change(info.filename, old.read(info))
                if data is not None:
                    new.writestr(info, data)
        return target

    def one_byte(name: str, data: bytes) -> bytes:
        return data[:200] + bytes([data[200] ^ 0x01]) + data[201:] if name == captures[1] else data

    changed = run_cli("verify", str(copy_with(one_byte, "changed.zip")))
    assert changed.code == 1
    assert f"fichier modifié (changed) : {captures[1]}" in changed.out

    removed = run_cli("verify", str(copy_with(lambda n, d: None if n == captures[0] else d, "removed.zip")))
    assert removed.code == 1
    assert f"fichier retiré (removed) : {captures[0]}" in removed.out
