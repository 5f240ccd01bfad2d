"""Monitors in the browser: the "New monitor" form of a model and a monitor's page with its
run history.

The form works in two steps on one page. "Read the columns" uploads the reference file; the
server profiles it and shows each column with the drift method ``auto`` suggests for it and
the methods that fit it (``monitoring.drift.suggest_methods``, over the rule the service
enforces). "Create the monitor" uploads it again with the choices and asks
``monitoring.create_monitor``, the API's use case, which refuses a method that does not fit
a watched column. The server keeps no rows between the steps: each upload spools through
``artifacts.spool`` (the version form's rule) and is deleted when the request ends; the
monitor keeps only its reference profile and exact reference, as from the SDK and CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from steward.artifacts import spool
from steward.domain import monitoring as rules
from steward.domain.errors import Forbidden, InvalidInput, NotFound, StewardError
from steward.domain.permissions import Permission
from steward.services import access, monitoring, versions
from steward.services import models as model_service
from steward.web import i18n
from steward.web.pages import NOTICES, Page, _page
from steward.web.version_pages import UploadForm, post_upload

router = APIRouter(include_in_schema=False)
TEXT_FIELDS = ("name", "version", "method", "mode", "schedule_every", "drift_share", "missing")
DEFAULTS = {
    "name": "default",
    "method": "auto",
    "mode": "exact",
    "drift_share": "0.5",
    "missing": "0.2",
}
RUNS_SHOWN = 100
METHOD_PREFIX = "method:"  # a column's own method select: method:COLUMN
NOTICES["monitor_created"] = i18n.N_("The monitor was created.")


def _choices(page: Page, name: str) -> list[int]:
    """The versions a monitor may watch (the service's stages), newest first."""
    assert page.principal is not None
    listed = versions.list_versions(page.ctx, page.principal, name, limit=1000).items
    return sorted(
        (v.version for v in listed if v.stage in monitoring.MONITORED_STAGES), reverse=True
    )


def _monitor_form(
    page: Page,
    name: str,
    form: dict[str, str],
    *,
    columns: list[Any] | None = None,
    watched: set[str] | None = None,
    chosen: dict[str, str] | None = None,
    error: StewardError | None = None,
) -> Response:
    assert page.principal is not None
    model = model_service.get_model(page.ctx, page.principal, name)
    # The service's own object check, so the wrong role reads the service's words.
    access.check_first(page.ctx, page.principal, Permission.MONITOR_MANAGE, name)
    limit = page.ctx.settings.max_artifact_bytes
    return page.render(
        "monitor_new.html",
        status=error.status if error is not None else 200,
        model=model,
        form={**DEFAULTS, **{k: v for k, v in form.items() if v}},
        columns=columns or [],
        watched=watched if watched is not None else {c.column for c in columns or []},
        # each column's method: what the user chose for it, else the one method they chose
        # for every column, else the one suggested for it
        chosen={
            c.column: (chosen or {}).get(c.column)
            or (form.get("method") if form.get("method") not in (None, "", "auto") else None)
            or c.suggested
            for c in columns or []
        },
        refused_columns=error.extra.get("columns", []) if error is not None else [],
        error=error,
        field=error.extra.get("field") if error is not None else None,
        problems=error.extra.get("problems", []) if error is not None else [],
        version_choices=_choices(page, name),
        methods=rules.DRIFT_METHODS,
        modes=rules.DRIFT_MODES,
        limit=limit,
        limit_mb=f"{limit / 1_000_000:.0f}" if limit >= 1_000_000 else f"{limit / 1_000_000:.3f}",
    )


@router.get("/models/{name}/monitors/new")
async def monitor_form(request: Request, name: str) -> Response:
    return await _page(request, lambda page: _monitor_form(page, name, {}))


def _threshold(text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(
            f"The {field} threshold must be a number, not {text!r}.", field=field
        ) from None
    if not 0 <= value <= 1:
        raise InvalidInput(
            f"The {field} threshold is a share between 0 and 1, not {value:g}.", field=field
        )
    return value


def _config(form: dict[str, str], watched: list[str], chosen: dict[str, str]) -> dict[str, Any]:
    """The monitor's settings, as the CLI and SDK send them; the service validates them."""
    drift_share = _threshold(form["drift_share"], "drift_share")
    missing = _threshold(form["missing"], "missing")
    return {
        "columns": watched,
        "method": form["method"] or "auto",
        "methods": {c: chosen[c] for c in watched if chosen.get(c)},
        "mode": form["mode"] or "exact",
        "schedule_every": form["schedule_every"].strip() or None,
        "rules": [
            {
                "id": "dataset-drift",
                "metric": "drift_share",
                "op": ">=",
                "threshold": drift_share,
                "severity": "high",
            },
            {
                "id": "missing-values",
                "metric": "missing_rate",
                "op": ">=",
                "threshold": missing,
                "column": rules.ANY_COLUMN,
                "severity": "medium",
            },
        ],
    }


def _submit(page: Page, name: str, posted: FormData, form: dict[str, str]) -> Response:
    from steward.monitoring import ReferenceProfile
    from steward.monitoring.batches import build_reference
    from steward.monitoring.drift import suggest_methods

    assert page.principal is not None
    create = posted.get("step") == "create"
    watched = [str(c) for c in posted.getlist("column")]
    # the per-column method selects (shown once the columns are read)
    chosen = {
        key.removeprefix(METHOD_PREFIX): str(value)
        for key, value in posted.multi_items()
        if key.startswith(METHOD_PREFIX) and isinstance(value, str) and value
    }
    columns: list[Any] = []
    path: Path | None = None
    try:
        upload = posted.get("reference")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(
                "Choose the reference data file (Parquet or CSV) to upload.", field="reference"
            )
        settings = page.ctx.settings
        path = spool.write_data(
            upload.file,
            upload.filename,
            settings.spool_dir,
            settings.max_artifact_bytes,
            "reference",
        )
        # Every column first, to show them all with their suggested methods.
        shown = build_reference(
            path, rules.MonitorConfig(mode="sketch"), source=Path(upload.filename).name
        )
        columns = suggest_methods(ReferenceProfile.from_json(shown.profile))
        if not create:
            return _monitor_form(page, name, form, columns=columns)
        if not form["version"].isdigit():
            raise InvalidInput("Choose the version the monitor watches.", field="version")
        config = _config(form, watched, chosen)
        parsed = rules.parse_config(config)
        reference = build_reference(path, parsed, source=Path(upload.filename).name)
        made = monitoring.create_monitor(
            page.ctx,
            page.principal,
            name,
            int(form["version"]),
            name=form["name"].strip(),
            config=config,
            reference=reference,
        )
    except StewardError as refused:
        if isinstance(refused, Forbidden):
            raise
        return _monitor_form(
            page,
            name,
            form,
            columns=columns,
            watched=set(watched) if create else None,
            chosen=chosen,
            error=refused,
        )
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    target = f"/models/{quote(name)}/monitors/{quote(made.id)}?notice=monitor_created"
    return RedirectResponse(target, status_code=303)


MONITOR_UPLOAD = UploadForm(
    permission=Permission.MONITOR_MANAGE,
    files=1,
    field="reference",
    refuse=lambda page, name, error: _monitor_form(page, name, {}, error=error),
    text_fields=TEXT_FIELDS,
    build=_submit,
)


@router.post("/models/{name}/monitors/new")
async def add_monitor(request: Request, name: str) -> Response:
    return await post_upload(request, name, MONITOR_UPLOAD)


def _run_rows(runs: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Per run: when, rows, mode, alerts and each column's drift score with its method."""
    columns: list[str] = []
    rows = []
    for run in runs:
        scores = {}
        for r in run.results:
            if r.metric == "drift_score" and r.column != rules.DATASET:
                scores[r.column] = (r.value, r.details.get("method"), r.details.get("error_bound"))
                if r.column not in columns:
                    columns.append(r.column)
        drifted = run.result("dataset_drift")
        rows.append(
            {"run": run, "scores": scores, "drifted": drifted is not None and drifted.value == 1.0}
        )
    return columns, rows


def _monitor_page(page: Page, name: str, monitor_id: str) -> Response:
    assert page.principal is not None
    model = model_service.get_model(page.ctx, page.principal, name)
    found = monitoring.get_monitor(page.ctx, page.principal, monitor_id)
    if found.model != model.name:  # a monitor is shown under its own model only
        raise NotFound(f"Model {name!r} has no monitor {monitor_id!r}.", monitor=monitor_id)
    runs = monitoring.list_runs(
        page.ctx, page.principal, found.id, limit=RUNS_SHOWN, with_results=True
    )
    columns, rows = _run_rows(runs)
    return page.render(
        "monitor.html", model=model, mon=found, columns=columns, rows=rows, limit=RUNS_SHOWN
    )


@router.get("/models/{name}/monitors/{monitor_id}")
async def monitor_page(request: Request, name: str, monitor_id: str) -> Response:
    return await _page(request, lambda page: _monitor_page(page, name, monitor_id))
