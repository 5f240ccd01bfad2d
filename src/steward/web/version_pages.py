"""Add a version from the browser: the artifact and, for each of training and evaluation
data, an uploaded file or a registered dataset version, with the version's metadata.

Uploads spool through ``artifacts.spool`` (the REST API's rule: chunked to
$STEWARD_HOME/spool, refused past STEWARD_MAX_ARTIFACT_BYTES) and the version is made by
``versions.create_version``, the API's use case. Who may add a version to this model is
asked of the service before the body is read, so a stranger's upload is never parsed; a
refusal of the input re-renders the form with the service's reason beside the field and
what was typed kept (browsers never let a page refill a file input).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from steward.artifacts import spool
from steward.domain.entities import DatasetVersion, Flavor
from steward.domain.errors import ArtifactTooLarge, Forbidden, InvalidInput, StewardError
from steward.domain.permissions import Permission
from steward.domain.specs import VersionSpec
from steward.services import access, versions
from steward.services import datasets as dataset_service
from steward.services import models as model_service
from steward.web import i18n
from steward.web.pages import NOTICES, Page, _login_redirect, _page

router = APIRouter(include_in_schema=False)
TEXT_FIELDS = ("description", "flavor", "metrics", "tags", "training_ref", "evaluation_ref")
DATA_ROLES = ("training", "evaluation")
FILE_FIELDS = 3  # the artifact and two data files, each up to the limit
FORM_OVERHEAD = 1024 * 1024  # multipart boundaries and the text fields
NOTICES["version_created"] = i18n.N_("The version was added in development.")


def _version_form(
    page: Page, name: str, form: dict[str, str], error: StewardError | None = None
) -> Response:
    assert page.principal is not None
    model = model_service.get_model(page.ctx, page.principal, name)
    # The service's own object check, so the wrong role reads the service's words.
    access.check_first(page.ctx, page.principal, Permission.VERSION_WRITE, name)
    choices = (
        dataset_service.version_choices(page.ctx, page.principal)
        if page.can("governance:read")
        else []
    )
    limit = page.ctx.settings.max_artifact_bytes
    return page.render(
        "version_new.html",
        status=error.status if error is not None else 200,
        model=model,
        form=form,
        error=error,
        field=error.extra.get("field") if error is not None else None,
        flavors=[f.value for f in Flavor if f is not Flavor.DIRECTORY],
        choices=choices,
        limit=limit,
        limit_mb=f"{limit / 1_000_000:.0f}" if limit >= 1_000_000 else f"{limit / 1_000_000:.3f}",
    )


@router.get("/models/{name}/versions/new")
async def version_form(request: Request, name: str) -> Response:
    return await _page(request, lambda page: _version_form(page, name, {"flavor": "other"}))


@dataclass(frozen=True)
class UploadForm:
    """One upload form of the web UI: who may post it, how many files it carries (each
    up to the limit), the field a size refusal names, the form re-rendered with a refusal,
    its text fields and what it makes of the posted form."""

    permission: Permission
    files: int
    field: str
    refuse: Callable[[Page, str, StewardError], Response]
    text_fields: tuple[str, ...]
    build: Callable[[Page, str, FormData, dict[str, str]], Response]


def _precheck(request: Request, name: str, upload: UploadForm) -> Response | None:
    """Sign-in, the object check and the declared size, before a byte of the body is read."""
    page = Page(request)
    if page.authenticate() is None:
        return _login_redirect(request)
    assert page.principal is not None
    try:
        access.check_first(page.ctx, page.principal, upload.permission, name)
    except StewardError as refused:
        return page.refusal(refused)
    limit = page.ctx.settings.max_artifact_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > upload.files * limit + FORM_OVERHEAD:
        too_large = ArtifactTooLarge(
            f"The upload is larger than this server accepts ({limit} bytes per file, "
            "STEWARD_MAX_ARTIFACT_BYTES); nothing was read.",
            limit=limit,
            field=upload.field,
        )
        response = upload.refuse(page, name, too_large)
        response.headers["Connection"] = "close"  # the unread body cannot carry a request
        return response
    return None


async def post_upload(request: Request, name: str, upload: UploadForm) -> Response:
    """Every upload form's POST: a stranger's or an oversized upload is never parsed; the
    parsed form's spooled files are closed whatever happens."""
    early = await run_in_threadpool(_precheck, request, name, upload)
    if early is not None:
        return early
    posted = await request.form()
    try:
        form = {key: str(posted.get(key) or "") for key in upload.text_fields}
        return await _page(
            request,
            lambda page: upload.build(page, name, posted, form),
            csrf_token=str(posted.get("csrf_token") or ""),
        )
    finally:
        await posted.close()


def _lines(text: str, field: str, number: bool) -> dict[str, Any]:
    """``name = value`` lines (blank lines skipped) as the metadata's mapping."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                f"Write one 'name = value' per line; {line.strip()!r} has no name or no '='.",
                field=field,
            )
        if number:
            try:
                out[key.strip()] = float(value)
            except ValueError:
                raise InvalidInput(
                    f"The value of metric {key.strip()!r} is not a number: {value.strip()!r}.",
                    field=field,
                ) from None
        else:
            out[key.strip()] = value.strip()
    return out


def _upload(posted: FormData, field: str) -> UploadFile | None:
    found = posted.get(field)
    return found if isinstance(found, UploadFile) and found.filename else None


def _data(
    page: Page, posted: FormData, form: dict[str, str], role: str, spooled: list[Path]
) -> DatasetVersion | None:
    """The role's data: a file uploaded now, or a registered dataset version; not both."""
    assert page.principal is not None
    field, upload, ref = f"{role}_data", _upload(posted, f"{role}_file"), form[f"{role}_ref"]
    if upload is not None and ref:
        raise InvalidInput(
            f"Upload a {role} data file or choose a registered dataset version, not both.",
            field=field,
        )
    if ref:
        try:
            return dataset_service.as_version_data(page.ctx, page.principal, ref)
        except StewardError as refused:
            if isinstance(refused, Forbidden):
                raise
            raise InvalidInput(refused.detail, field=field) from None
    if upload is None:
        return None
    settings = page.ctx.settings
    path = spool.write_data(
        upload.file, upload.filename or "", settings.spool_dir, settings.max_artifact_bytes, field
    )
    spooled.append(path)
    try:
        return versions.describe_upload(path, upload.filename or "")
    except InvalidInput as bad:
        raise InvalidInput(bad.detail, field=field) from None


def _create(page: Page, name: str, posted: FormData, form: dict[str, str]) -> Response:
    assert page.principal is not None
    spooled: list[Path] = []
    try:
        artifact = _upload(posted, "artifact")
        if artifact is None:
            raise InvalidInput("Choose the model's artifact file to upload.", field="artifact")
        try:
            flavor = Flavor(form["flavor"] or "other")
        except ValueError:
            raise InvalidInput(f"Unknown flavor {form['flavor']!r}.", field="flavor") from None
        metrics = _lines(form["metrics"], "metrics", number=True)
        tags = _lines(form["tags"], "tags", number=False)
        data = {role: _data(page, posted, form, role, spooled) for role in DATA_ROLES}
        settings = page.ctx.settings
        path = spool.write_artifact(artifact.file, settings.spool_dir, settings.max_artifact_bytes)
        spooled.append(path)
        spec = VersionSpec(
            flavor=flavor,
            filename=Path(artifact.filename or "").name or VersionSpec.filename,
            description=form["description"].strip(),
            metrics=metrics,
            tags=tags,
            training_data=data["training"],
            evaluation_data=data["evaluation"],
        )
        made = versions.create_version(page.ctx, page.principal, name, spec, path)
    except StewardError as refused:
        if isinstance(refused, Forbidden):
            raise
        return _version_form(page, name, form, refused)
    finally:
        for path in spooled:
            path.unlink(missing_ok=True)
    target = f"/models/{quote(name)}?version={made.version}&notice=version_created"
    return RedirectResponse(target, status_code=303)


VERSION_UPLOAD = UploadForm(
    permission=Permission.VERSION_WRITE,
    files=FILE_FIELDS,
    field="artifact",
    refuse=lambda page, name, error: _version_form(page, name, {"flavor": "other"}, error),
    text_fields=TEXT_FIELDS,
    build=_create,
)


@router.post("/models/{name}/versions/new")
async def add_version(request: Request, name: str) -> Response:
    return await post_upload(request, name, VERSION_UPLOAD)
