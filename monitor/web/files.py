"""Evidence files served read-only, and thumbnails made from them (cached under data/thumbs, never in evidence/)."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response
from PIL import Image

from monitor.domain import EvidenceFile
from monitor.storage import browse
from monitor.web.context import WebContext

SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}$")
MAX_DEPTH = 6
IMAGE_KINDS = frozenset({"screenshot", "stamped", "captcha"})
THUMB_WIDTH = 360
THUMB_MAX_HEIGHT = 480


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def safe_relative(path: str) -> str:
    """A path under evidence/ made only of plain segments (no `..`, no hidden files, no absolute path)."""
    parts = path.split("/")
    if parts[0] != "evidence" or not 2 <= len(parts) <= MAX_DEPTH or not all(SEGMENT.match(p) for p in parts):
        raise HTTPException(404, "no such evidence file")
    return path


def locate(ctx: WebContext, path: str) -> tuple[EvidenceFile, Path]:
    """The recorded evidence file and where it is on disk, checked to be inside data/evidence."""
    record = browse.evidence_file(ctx.storage, safe_relative(path))
    root = ctx.settings.evidence_dir.resolve()
    full = (ctx.settings.data_dir / path).resolve()
    if record is None or not full.is_relative_to(root) or not full.is_file():
        raise HTTPException(404, "no such evidence file")
    return record, full


def router() -> APIRouter:
    files = APIRouter()

    @files.get("/files/{path:path}", include_in_schema=False)
    async def evidence(path: str, ctx: Annotated[WebContext, Depends(context)]) -> Response:
        record, full = locate(ctx, path)
        headers = {"X-Evidence-SHA256": record.sha256, "Cache-Control": "private, max-age=86400, immutable"}
        if record.kind in IMAGE_KINDS:
            return FileResponse(full, media_type="image/png", headers=headers)
        # Captured HTML is someone else's page: never render it under our origin.
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return FileResponse(full, media_type="text/plain; charset=utf-8", headers=headers, filename=full.name)

    @files.get("/thumbs/{path:path}", include_in_schema=False)
    async def thumbnail(path: str, ctx: Annotated[WebContext, Depends(context)]) -> Response:
        record, full = locate(ctx, path)
        if record.kind not in IMAGE_KINDS:
            raise HTTPException(404, "no thumbnail for this file")
        thumb = await asyncio.to_thread(ensure_thumbnail, full, ctx.thumbs_dir, record.sha256)
        return FileResponse(thumb, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    return files


def ensure_thumbnail(source: Path, folder: Path, digest: str) -> Path:
    """A small JPEG of the top of a screenshot, made once and kept by the source's hash."""
    target = folder / f"{digest}-{THUMB_WIDTH}.jpg"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.draft("RGB", (THUMB_WIDTH * 2, THUMB_WIDTH * 8))
        rgb = image.convert("RGB")
    height = max(1, round(rgb.height * THUMB_WIDTH / rgb.width))
    small = rgb.resize((THUMB_WIDTH, height), Image.Resampling.LANCZOS).crop(
        (0, 0, THUMB_WIDTH, min(height, THUMB_MAX_HEIGHT))
    )
    temp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    small.save(temp, format="JPEG", quality=80)
    os.replace(temp, target)
    return target
