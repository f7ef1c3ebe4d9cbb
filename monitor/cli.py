"""The `rdv-monitor` command line. User mistakes print one line and exit 2; never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import get_args

from monitor.alerts import fingerprint, redact
from monitor.app import checker, load_app, open_storage
from monitor.assist import AssistBroker
from monitor.config import LogLevel
from monitor.domain import PARIS, CheckResult, utcnow
from monitor.errors import UserError
from monitor.lock import exclusive, holder_pid
from monitor.notify import Notifier, Target, make_target, send_test, targets_from
from monitor.proof import commands as proof
from monitor.service import Service, WatchStatus, statuses
from monitor.storage import db
from monitor.storage.outbox import Notification, pending_notifications

Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("rdv-monitor").strip()
        raise UserError(f"{command}: {message}" if command else message)


def build_parser() -> Parser:
    parser = Parser(prog="rdv-monitor", description="Watch prefecture booking pages and keep proof.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("validate", help="check the watch file and settings, run nothing")
    check = sub.add_parser("check", help="run one check now and print the result")
    check.add_argument("watch")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_parser("watches", help="list the configured watches")
    history = sub.add_parser("history", help="attempts of a watch, newest first")
    history.add_argument("watch")
    history.add_argument("--json", action="store_true", help="print a JSON list")
    history.add_argument("--limit", type=positive, default=50, help="how many attempts (default 50)")
    dbp = sub.add_parser("db", help="database maintenance")
    dbp.add_argument("action", choices=["upgrade"])
    sub.add_parser("run", help="run the service: every watch checked on its schedule until SIGTERM/SIGINT")
    status = sub.add_parser("status", help="per watch: last status, last check, next check")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    notify = sub.add_parser("notify", help="notifications: send a test message")
    notify.add_argument("action", choices=["test"])
    notify.add_argument("url", nargs="?", help="an Apprise URL (default: every notify target of the watch file)")
    proof.add_parsers(sub)
    return parser


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def cmd_validate(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    targets_from(app.catalog.notify, source=str(app.catalog.path))  # Apprise must accept every notify URL
    print(f"{app.catalog.path}: OK, {len(app.catalog.watches)} watch(es), {len(app.catalog.notify)} notify target(s)")
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    """Send a test message to the given Apprise URL, or to every configured target, and say what happened."""
    if args.url:
        targets: tuple[Target, ...] = (make_target(args.url, name="URL", field="URL"),)
    else:
        app = load_app(os.environ)
        targets = targets_from(app.catalog.notify, source=str(app.catalog.path))
        if not targets:
            raise UserError(f"{app.catalog.path}: notify: no target configured (add one, or give a URL)")
    errors = asyncio.run(send_test(targets, now=utcnow()))
    for target, error in zip(targets, errors, strict=True):
        print(f"{target.name} {target.label}: {'sent' if error is None else 'FAILED: ' + error}")
    return 0 if not any(errors) else 1


def cmd_check(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    watch = app.catalog.watch(args.watch)
    storage = open_storage(app.settings)
    notifier = Notifier.from_app(app, storage)

    async def run() -> CheckResult:
        async with checker(app.settings, storage, listeners=[notifier]) as check:
            result = await check.check(watch)
        await notifier.deliver_due()  # a manual check that sees slots tells people now, like the service would
        return result

    try:
        result = asyncio.run(run())
    finally:
        storage.close()
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if args.json else render(result))
    return 0


def cmd_watches(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    for watch in app.catalog.watches:
        print(f"{watch.id}\t{watch.platform}\t{watch.title}\t{watch.url}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    app.catalog.watch(args.watch)
    storage = open_storage(app.settings)
    try:
        results = storage.history(args.watch, limit=args.limit)
    finally:
        storage.close()
    if args.json:
        print(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
    else:
        for result in results:
            print(f"{_paris(result.checked_at)}  {result.status:<16} {result.reason}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    db.upgrade(app.settings.database_path)
    print(f"database up to date: {app.settings.database_path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    with exclusive(app.settings.data_dir):
        storage = open_storage(app.settings)  # applies pending migrations
        try:
            from monitor.web.wiring import web_server  # the web stack loads only for `run`

            broker = AssistBroker(timeout_seconds=app.settings.assist_timeout_seconds)
            notifier = Notifier.from_app(app, storage)  # a bad Apprise URL stops here, before anything runs
            service = Service(
                app.settings, app.catalog, storage, listeners=[notifier], components=[notifier], assistant=broker
            )
            service.add_component(web_server(app.settings, storage, service, broker))
            asyncio.run(service.run())
        finally:
            storage.close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    app = load_app(os.environ)
    storage = open_storage(app.settings)
    try:
        rows = statuses(app.settings, app.catalog, storage, now=utcnow())
        pending = pending_notifications(storage)
    finally:
        storage.close()
    pid = holder_pid(app.settings.data_dir)
    names = {fingerprint(spec.url): redact(spec.url) for spec in app.catalog.notify}
    if args.json:
        document = {
            "service": {"running": pid is not None, "pid": pid},
            "watches": [r.to_json() for r in rows],
            "pending_notifications": [pending_json(n, names) for n in pending],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    print(f"service: running (pid {pid})" if pid else "service: not running (next checks: if started now)")
    for row in rows:
        print(render_status(row))
    print(f"notifications: {len(pending)} pending" + (":" if pending else ""))
    for item in pending:
        print(render_pending(item, names))
    return 0


def pending_json(item: Notification, names: Mapping[str, str]) -> dict[str, object]:
    return {
        "id": item.id,
        "event": item.event,
        "watch": item.watch_id,
        "target": names.get(item.target, item.target),
        "created_at": item.created_at.isoformat(),
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at.isoformat(),
        "last_error": item.last_error,
    }


def render_pending(item: Notification, names: Mapping[str, str]) -> str:
    why = f", last error: {item.last_error}" if item.last_error else ""
    target = names.get(item.target, item.target)
    return f"  {item.event:<10} {item.watch_id or '-':<24} to {target}  queued {_paris(item.created_at)}, " + (
        f"{item.attempts} attempt(s){why}"
    )


def render_status(row: WatchStatus) -> str:
    last = f"{row.last_status} at {_paris(row.last_check)}" if row.last_check else "never checked"
    slowed = f"  (slowed down after {row.failures} failure(s))" if row.failures else ""
    return f"{row.watch:<24} last: {last:<42} next: ~{_paris(row.next_check)}{slowed}"


def _paris(when: datetime | None) -> str:
    return f"{when.astimezone(PARIS):%Y-%m-%d %H:%M:%S%z}" if when else "-"


def render(result: CheckResult) -> str:
    when = result.checked_at.astimezone(PARIS)
    lines = [f"{result.watch}: {result.status} — {result.reason}", f"  checked at {when.isoformat()}"]
    lines.append(f"  final URL  {result.final_url} (HTTP {result.http_status})")
    lines += [f"  slot       {s.astimezone(PARIS).isoformat()}" for s in result.slots]
    lines += [f"  {f.kind:<10} {f.path}  sha256 {f.sha256}" for f in result.files]
    return "\n".join(lines)


HANDLERS: dict[str, Handler] = {
    **proof.HANDLERS,
    "validate": cmd_validate,
    "check": cmd_check,
    "watches": cmd_watches,
    "history": cmd_history,
    "db": cmd_db,
    "run": cmd_run,
    "status": cmd_status,
    "notify": cmd_notify,
}


def log_level(environ: Mapping[str, str]) -> str:
    """The level asked by RDV_MONITOR_LOG_LEVEL, checked before logging starts (settings come later)."""
    value = (environ.get("RDV_MONITOR_LOG_LEVEL") or "INFO").upper()
    if value not in get_args(LogLevel):
        raise UserError(f"RDV_MONITOR_LOG_LEVEL: unknown level {value!r} (known: {', '.join(get_args(LogLevel))})")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=log_level(os.environ),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)  # storage.db logs the one line that matters
        return HANDLERS[args.command](args)
    except UserError as exc:
        print(f"rdv-monitor: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
