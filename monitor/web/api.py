"""The JSON API: watches, their attempts, the proof archive, captcha tasks. The dashboard uses the same calls."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from starlette.background import BackgroundTask

from monitor.assist import AssistError
from monitor.domain import Status, Watch
from monitor.errors import UserError
from monitor.storage import browse
from monitor.web import views
from monitor.web.auth import api_auth, api_post_limit
from monitor.web.context import WebContext
from monitor.web.files import context
from monitor.web.schemas import Accepted, AnswerIn, AssistTaskOut, CheckOut, WatchOut, check_out, period

log = logging.getLogger(__name__)
Ctx = Annotated[WebContext, Depends(context)]


def find_watch(ctx: WebContext, watch_id: str) -> Watch:
    for watch in ctx.watches:
        if watch.id == watch_id:
            return watch
    raise HTTPException(404, f"no watch with id {watch_id!r}")


def router() -> APIRouter:
    api = APIRouter(prefix="/api", dependencies=[Depends(api_auth)], tags=["api"])

    @api.get("/watches", response_model=list[WatchOut], summary="Every watch with its current status")
    async def watches(ctx: Ctx) -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(views.watch_rows, ctx)
        return [row.to_json() for row in rows]

    @api.get("/watches/{watch_id}/checks", response_model=list[CheckOut], summary="Attempts of a watch, newest first")
    async def checks(
        watch_id: str,
        ctx: Ctx,
        status: Annotated[list[Status], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
        start: Annotated[date | None, Query(alias="from", description="first day, inclusive")] = None,
        end: Annotated[date | None, Query(alias="to", description="last day, inclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        find_watch(ctx, watch_id)
        low, high = period(start, end)
        where = browse.CheckFilter(watch=watch_id, statuses=frozenset(status), start=low, end=high)
        found = await asyncio.to_thread(browse.find_checks, ctx.storage, where, limit=limit, offset=offset)
        return [check_out(r) for r in found]

    @api.get(
        "/watches/{watch_id}/export",
        summary="The proof archive (ZIP) of a watch",
        response_class=FileResponse,
        responses={200: {"content": {"application/zip": {}}}},
    )
    async def export(
        watch_id: str,
        ctx: Ctx,
        start: Annotated[date | None, Query(alias="from", description="first day, inclusive")] = None,
        end: Annotated[date | None, Query(alias="to", description="last day, inclusive")] = None,
    ) -> Response:
        find_watch(ctx, watch_id)
        period(start, end)
        return await export_zip(ctx, watch_id, start, end)

    @api.post("/watches/{watch_id}/check", status_code=202, response_model=Accepted, summary="Check a watch now")
    async def check_now(watch_id: str, ctx: Ctx, _: Annotated[None, Depends(api_post_limit)]) -> Accepted:
        find_watch(ctx, watch_id)
        ctx.check_soon(watch_id)
        return Accepted(detail=f"a check of {watch_id} is queued")

    @api.get("/assist", response_model=list[AssistTaskOut], summary="Captcha tasks waiting for a person")
    async def assist_tasks(ctx: Ctx) -> list[dict[str, object]]:
        return [t.to_json() for t in (ctx.broker.pending() if ctx.broker else [])]

    @api.post(
        "/assist/{task_id}",
        status_code=202,
        response_model=Accepted,
        summary="Answer a captcha task",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": AnswerIn.model_json_schema()}}}
        },
    )
    async def assist_answer(
        task_id: str, request: Request, ctx: Ctx, _: Annotated[None, Depends(api_post_limit)]
    ) -> Accepted:
        body = await answer_body(request)
        answer_task(ctx, task_id, body.answer)
        return Accepted(detail="the answer is being typed into the page; the attempt will show the result")

    return api


async def answer_body(request: Request) -> AnswerIn:
    """A JSON body {"answer": "..."}; anything else is a clear 4xx (JSON only: a form cannot forge it cross-site)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, 'send JSON: Content-Type: application/json, body {"answer": "..."}')
    try:
        return AnswerIn.model_validate_json(await request.body())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise HTTPException(422, f"{where}: {err['msg']}") from None


def answer_task(ctx: WebContext, task_id: str, answer: str) -> None:
    if ctx.broker is None:
        raise HTTPException(404, "no pending captcha task with this id")
    try:
        ctx.broker.answer(task_id, answer)
    except AssistError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


async def export_zip(ctx: WebContext, watch_id: str, start: date | None, end: date | None) -> Response:
    """Build the archive into a temporary file (in a thread) and stream it; the file goes once sent."""
    if ctx.exporter is None:
        raise HTTPException(503, "the proof export is not available in this installation")
    folder = ctx.settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"export-{watch_id}-{secrets.token_hex(6)}.zip"
    try:
        await asyncio.to_thread(ctx.exporter, watch_id, target, start, end)
    except UserError as exc:
        target.unlink(missing_ok=True)
        raise HTTPException(422, str(exc)) from None
    except Exception:
        target.unlink(missing_ok=True)
        log.exception("export of %s failed", watch_id)
        raise HTTPException(500, "the export failed; see the service log") from None
    name = f"preuve-{watch_id}-{date.today():%Y%m%d}.zip"
    return FileResponse(target, media_type="application/zip", filename=name, background=BackgroundTask(_remove, target))


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
