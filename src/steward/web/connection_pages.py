"""Data connections in the web UI: an admin lists, registers and removes the connections
the server reads through (``services/connections.py``; the CLI's ``steward connection``).

Credentials are typed into password fields, sealed by the service like today, and never
sent back: not in the list (which names only the credentials held), and not when a
refused form is shown again (the admin types them again). Every POST carries the CSRF
token; the service checks ``connection:manage`` again whoever calls it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.domain import connections as rules
from steward.domain.errors import Forbidden, StewardError
from steward.domain.permissions import Role
from steward.services import connections, identity
from steward.web import i18n
from steward.web.admin_pages import _ensure_admin, _guarded, _no_store
from steward.web.pages import NOTICES, Page, _page

router = APIRouter(include_in_schema=False)
PERMISSION = "connection:manage"
# Form fields per option and credential key (every kind's; the service refuses a key the
# chosen kind does not take, naming the ones it does).
OPTION_KEYS = sorted({k for keys in rules.OPTIONS.values() for k in keys})
CREDENTIAL_KEYS = sorted({k for keys in rules.CREDENTIALS.values() for k in keys})

NOTICES.update(
    {
        "connection_created": i18n.N_(
            "The data connection was registered; its credentials are sealed."
        ),
        "connection_deleted": i18n.N_(
            "The data connection was removed: nothing reads through it any more."
        ),
    }
)


def _blank() -> dict[str, Any]:
    return {
        "name": "",
        "kind": rules.ConnectionKind.FOLDER.value,
        "location": "",
        "description": "",
        "options": {},
        "roles": [],
        "teams": [],
    }


def _connections_page(
    page: Page, *, status: int = 200, form: dict[str, Any] | None = None, error: Any = None
) -> Response:
    _ensure_admin(page, PERMISSION)
    assert page.principal is not None
    return _no_store(
        page.render(
            "admin_connections.html",
            status=status,
            found=connections.list_connections(page.ctx, page.principal),
            kinds=[k.value for k in rules.ConnectionKind],
            option_keys=OPTION_KEYS,
            credential_keys=CREDENTIAL_KEYS,
            takes={
                k: {"options": rules.OPTIONS[k], "credentials": rules.CREDENTIALS[k]}
                for k in rules.OPTIONS
            },
            roles=[r.value for r in Role],
            teams=[t.name for t in identity.list_teams(page.ctx, page.principal)],
            form=form or _blank(),
            error=error,
            field=(error.extra.get("field") if error is not None else None),
        )
    )


@router.get("/admin/connections")
async def connections_page(request: Request) -> Response:
    return await _page(request, lambda page: _connections_page(page))


@router.post("/admin/connections")
async def create_connection(request: Request) -> Response:
    # Read as a form: the option and credential fields are named per key (cred_password...).
    data = await request.form()
    csrf_token = str(data.get("csrf_token", ""))

    def text(key: str) -> str:
        value = data.get(key, "")
        return value if isinstance(value, str) else ""

    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token, PERMISSION)
        if refused is not None:
            return refused
        options = {k: text(f"opt_{k}").strip() for k in OPTION_KEYS if text(f"opt_{k}").strip()}
        credentials = {k: text(f"cred_{k}") for k in CREDENTIAL_KEYS if text(f"cred_{k}")}
        roles = [v for v in data.getlist("roles") if isinstance(v, str)]
        teams = [v for v in data.getlist("teams") if isinstance(v, str)]
        name, kind, location = text("name").strip(), text("kind"), text("location").strip()
        description = text("description")
        # What the form shows again if refused: never the credentials.
        form: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "location": location,
            "description": description,
            "options": options,
            "roles": roles,
            "teams": teams,
        }
        try:
            made = connections.create_connection(
                page.ctx,
                page.principal,
                name,
                kind=kind,
                location=location,
                description=description,
                options=options,
                credentials=credentials,
                roles=roles,
                teams=teams,
            )
        except Forbidden as refused_:
            return page.refusal(refused_, "/admin/connections")
        except StewardError as bad:
            return _connections_page(page, status=bad.status, form=form, error=bad)
        return RedirectResponse(
            f"/admin/connections?notice=connection_created#connection-{made.name}",
            status_code=303,
        )

    return await _page(request, build)


@router.post("/admin/connections/{name}/delete")
async def delete_connection(request: Request, name: str, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token, PERMISSION)
        if refused is not None:
            return refused
        try:
            connections.delete_connection(page.ctx, page.principal, name)
        except StewardError as refused_:
            return page.refusal(refused_, "/admin/connections")
        return RedirectResponse("/admin/connections?notice=connection_deleted", status_code=303)

    return await _page(request, build)
