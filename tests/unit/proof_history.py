"""A small recorded history for proof tests, written through the real EvidenceStore and Storage (no browser)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from PIL import Image, ImageDraw

from monitor.domain import CheckResult, Status, Watch
from monitor.evidence import Capture, EvidenceStore
from monitor.storage import Storage

WATCH = Watch(
    id="paris-titre",
    url="https://pprdv.example.test/booking/create/989",
    platform="ezbooking",
    label="Remise de titre de séjour, Paris",
)
NO_SLOT_REASON = (
    "« Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
    "Veuillez recommencer ultérieurement. »"
)
REASONS = {
    Status.NO_SLOT: NO_SLOT_REASON,
    Status.ERROR: "HTTP 502 (proxy error)",
    Status.CAPTCHA: "reCAPTCHA on the page (Contrôle de sécurité)",
    Status.SLOTS_AVAILABLE: "2 free slot(s) in the calendar",
}


def page_png(text: str, size: tuple[int, int] = (480, 160)) -> bytes:
    image = Image.new("RGB", size, (250, 250, 250))
    ImageDraw.Draw(image).text((10, 60), text, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def record(
    storage: Storage,
    data: Path,
    at: datetime,
    status: Status,
    *,
    watch: Watch = WATCH,
    label: bool = True,
    final_url: str | None = None,
) -> CheckResult:
    """One attempt as the runner would store it: stamped evidence files, then the chained row."""
    files = EvidenceStore(data).write(watch, at, watch.url, status, Capture(screenshot=page_png(status), html="<p/>"))
    details = {
        "fresh_profile": True,
        "server_date": format_datetime(at - timedelta(seconds=1), usegmt=True),
        "server_ip": "192.0.2.7",
        **({"watch_label": watch.title} if label else {}),
        **({"watch_url": watch.url} if final_url is not None else {}),
    }
    result = CheckResult(
        watch=watch.id,
        status=status,
        reason=REASONS.get(status, "no known marker on the page"),
        started_at=at - timedelta(seconds=2),
        checked_at=at,
        final_url=watch.url + "/2" if final_url is None else final_url,
        http_status=502 if status is Status.ERROR else 200,
        files=files,
        details=details,
        versions={"rdv_monitor": "0.1.0", "chromium": "156.0", "playwright": "1.65.2", "python": "3.11"},
    )
    return storage.record_check(result, platform=watch.platform, url=watch.url)


def history(storage: Storage, data: Path, moments: Sequence[tuple[datetime, Status]]) -> list[CheckResult]:
    return [record(storage, data, at, status) for at, status in moments]
