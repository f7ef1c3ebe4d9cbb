"""Benchmark the service: N watches against local ezbooking imitations, the real `rdv-monitor run` for a while.

Prints checks per minute, median and p95 check duration, the peak memory of the service and its browser
processes (sum of PSS from /proc, RSS where PSS is unreadable) and CPU seconds per check (the whole
process tree, start-up and shutdown included). Politeness is off (no host gap, no interval floor) so the
figures show what one machine can do, not what the service does by default.

    .venv/bin/python bench/run_service.py [--watches 20] [--minutes 3] [--every 15] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.domain import CheckResult
from monitor.storage import Storage
from tests.processes import descendants
from tests.sites.ezbooking import EzBookingSite, EzState
from tests.sites.server import LocalServer

SAMPLE_SECONDS = 1.0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between two checks of one watch")
    parser.add_argument("--concurrency", type=int, default=2, help="RDV_MONITOR_MAX_CONCURRENT_CHECKS")
    return parser.parse_args()


def watch_file(path: Path, bases: list[str], count: int, every: float) -> None:
    watches = [
        {"id": f"bench-{n:02d}", "url": f"{bases[n % len(bases)]}/booking/create/989", "options": {"planning": "990"}}
        for n in range(count)
    ]
    document = {"defaults": {"schedule": {"every": f"{every}s", "jitter": f"{every / 5}s"}}, "watches": watches}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")


def environment(workdir: Path, concurrency: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("RDV_MONITOR_")}
    return {
        **keep,
        "RDV_MONITOR_CONFIG": str(workdir / "watches.yaml"),
        "RDV_MONITOR_DATA_DIR": str(workdir / "data"),
        "RDV_MONITOR_HOST_GAP_SECONDS": "0",
        "RDV_MONITOR_MIN_INTERVAL_SECONDS": "0",
        "RDV_MONITOR_MAX_CONCURRENT_CHECKS": str(concurrency),
        "RDV_MONITOR_PORT": "0",
        "RDV_MONITOR_LOG_LEVEL": "WARNING",
    }


def memory_kib(pid: int) -> int:
    """Proportional set size (shared pages split between the processes sharing them), else resident size."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(args: argparse.Namespace, workdir: Path, bases: list[str]) -> dict[str, Any]:
    watch_file(workdir / "watches.yaml", bases, args.watches, args.every)
    Storage(workdir / "data" / "rdv-monitor.sqlite3").close()  # migrations before the clock starts
    began = time.time()
    service = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run"], env=environment(workdir, args.concurrency))
    peak, peak_processes = 0, 0
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline and service.poll() is None:
        pids = {service.pid} | descendants(service.pid)
        total = sum(memory_kib(p) for p in pids)
        if total > peak:
            peak, peak_processes = total, len(pids)
        time.sleep(SAMPLE_SECONDS)
    ended = time.time()
    service.send_signal(signal.SIGTERM)
    code = service.wait(timeout=60)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "began": began,
        "ended": ended,
        "exit": code,
        "peak_kib": peak,
        "peak_processes": peak_processes,
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def checks(workdir: Path, count: int) -> list[CheckResult]:
    storage = Storage(workdir / "data" / "rdv-monitor.sqlite3", migrate=False)
    try:
        return [row for n in range(count) for row in storage.history(f"bench-{n:02d}")]
    finally:
        storage.close()


def report(args: argparse.Namespace, figures: dict[str, Any], rows: list[CheckResult]) -> None:
    minutes = (figures["ended"] - figures["began"]) / 60
    durations = sorted((r.checked_at - r.started_at).total_seconds() for r in rows)
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[str(row.status)] = statuses.get(str(row.status), 0) + 1
    p95 = durations[min(len(durations) - 1, round(0.95 * (len(durations) - 1)))] if durations else float("nan")
    print(f"watches              {args.watches} (every {args.every:g} s ± {args.every / 10:g} s)")
    print(f"concurrency          {args.concurrency}")
    print(f"duration             {minutes:.2f} min (start-up included), service exit code {figures['exit']}")
    print(f"checks               {len(rows)}: {statuses}")
    print(f"checks per minute    {len(rows) / minutes:.1f}")
    print(f"check duration       median {statistics.median(durations):.2f} s, p95 {p95:.2f} s" if durations else "")
    peak_mib = figures["peak_kib"] / 1024
    print(f"peak memory          {peak_mib:.0f} MiB PSS over {figures['peak_processes']} processes (service + browser)")
    print(f"CPU per check        {figures['cpu'] / max(len(rows), 1):.2f} s ({figures['cpu']:.0f} s in all)")


def main() -> None:
    args = parse()
    no_slot, slots = EzBookingSite(EzState(cookie_banner=True)), EzBookingSite(EzState(availability="slots"))
    with tempfile.TemporaryDirectory(prefix="rdv-bench-") as tmp, LocalServer(no_slot) as a, LocalServer(slots) as b:
        workdir = Path(tmp)
        (workdir / "data").mkdir()
        figures = run(args, workdir, [a.base, a.base, a.base, b.base])  # one watch in four sees slots
        report(args, figures, checks(workdir, args.watches))


if __name__ == "__main__":
    main()
