"""Adding a watch from a pasted booking URL: recognise the platform, list the site's choices, write the file.

The site is visited exactly like a check (same adapter, same browser, same politeness), nothing is kept,
and the visit stops where a check stops: it never books.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from monitor.catalog.schema import check_url
from monitor.domain import Observation, Watch
from monitor.errors import ConfigError
from monitor.platforms import PLATFORMS, get_platform, recognise
from monitor.runner import classify
from monitor.web import views
from monitor.web.auth import form_post, page_auth
from monitor.web.context import WebContext
from monitor.web.files import context
from monitor.web.pages import render

Ctx = Annotated[WebContext, Depends(context)]
MAX_FIELD = 2000


def router() -> APIRouter:
    add = APIRouter(dependencies=[Depends(page_auth)], include_in_schema=False)

    @add.get("/watches/new")
    async def new_form(request: Request, ctx: Ctx) -> Response:
        return render(
            request, ctx, "add.html", {"step": "url", "form": {}, "error": None, "platforms": sorted(PLATFORMS)}
        )

    @add.post("/watches/new/inspect", dependencies=[Depends(form_post)])
    async def inspect(request: Request, ctx: Ctx) -> Response:
        form = await form_fields(request)
        try:
            url = check_url(form.get("url", ""))
        except ValueError as exc:
            return step(request, ctx, "url", form, f"URL : {exc}")
        name = form.get("platform") or recognise(url)
        if name is None or name not in PLATFORMS:
            return step(
                request, ctx, "url", form, "Plateforme non reconnue d'après l'URL : choisissez-la dans la liste."
            )
        found = await discover(ctx, url, name)
        return step(request, ctx, "details", {**form, "url": url, "platform": name, "id": suggest_id(url)}, None, found)

    @add.post("/watches/new/save", dependencies=[Depends(form_post)])
    async def save(request: Request, ctx: Ctx) -> Response:
        form = await form_fields(request)
        if ctx.writer is None:
            return step(
                request, ctx, "details", form, "Ajout impossible : pas de fichier de suivi accessible en écriture."
            )
        try:
            entry = watch_entry(form)
            catalog = await asyncio.to_thread(ctx.writer.add_watch, entry)
        except ConfigError as exc:
            return step(request, ctx, "details", form, str(exc), choices_from_form(form))
        ctx.catalog.current = catalog
        ctx.service.reload(catalog)
        return RedirectResponse(f"/watches/{entry['id']}?msg=added", status_code=303)

    return add


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip()[:MAX_FIELD] for k, v in form.items() if isinstance(v, str) and k != "csrf"}


def step(
    request: Request,
    ctx: WebContext,
    name: str,
    form: dict[str, str],
    error: str | None,
    found: dict[str, Any] | None = None,
) -> Response:
    values = {"step": name, "form": form, "error": error, "platforms": sorted(PLATFORMS), **(found or {})}
    return render(request, ctx, "add.html", values, 422 if error else 200)


async def discover(ctx: WebContext, url: str, platform: str) -> dict[str, Any]:
    """Visit the URL like a check would, and report what the site offers (its choices) and what it says."""
    if ctx.previewer is None:
        return {"choices": [], "choice_option": "", "preview": None}
    observation = await ctx.previewer(Watch(id="new-watch", url=url, platform=platform))
    verdict = classify(platform, observation)
    choices = list(observation.facts.get("choices") or [])
    return {
        "choices": choices,
        "choice_option": choice_option(platform, observation) if choices else "",
        "preview": f"{views.status_words(verdict.status)} — {verdict.reason}",
    }


def choice_option(platform: str, observation: Observation) -> str:
    """Which option the site's choices fill: the fact the adapter reported beside them that is one of its options."""
    fields = get_platform(platform).Options.model_fields
    return next((key for key in observation.facts if key != "choices" and key in fields), "")


def choices_from_form(form: dict[str, str]) -> dict[str, Any]:
    """Choices are re-posted as hidden fields so a rejected form shows them again without a new visit."""
    pairs = [v.split("\x1f", 1) for k, v in sorted(form.items()) if k.startswith("offered_")]
    choices = [{"id": p[0], "label": p[1]} for p in pairs if len(p) == 2]
    return {"choices": choices, "choice_option": form.get("choice_option", ""), "preview": None}


def watch_entry(form: dict[str, str]) -> dict[str, Any]:
    """The new `watches:` entry from the form; the writer validates it with the whole file."""
    options = parse_options(form.get("options", ""))
    if form.get("choice_option") and form.get("choice"):
        options[form["choice_option"]] = form["choice"]
    entry: dict[str, Any] = {"id": form.get("id", ""), "url": form.get("url", ""), "platform": form.get("platform", "")}
    if form.get("label"):
        entry["label"] = form["label"]
    if options:
        entry["options"] = options
    if form.get("assist") == "on":
        entry["assist"] = True
    return entry


def parse_options(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        found = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError("options: invalid YAML") from None
    if not isinstance(found, dict):
        raise ConfigError('options: expected a mapping such as `planning: "990"`')
    return found


def suggest_id(url: str) -> str:
    """A readable id from the URL: first label of the host and the last path segment."""
    parts = urlsplit(url)
    host = (parts.hostname or "watch").split(".")
    head = host[1] if host[0] == "www" and len(host) > 1 else host[0]
    tail = [p for p in parts.path.split("/") if p][-1:] or [""]
    slug = re.sub(r"[^a-z0-9]+", "-", f"{head}-{tail[0]}".lower()).strip("-")
    return slug[:60].strip("-") or "watch"
