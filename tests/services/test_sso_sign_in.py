"""The single sign-on use case on verified claims (SQLite and PostgreSQL): binding by
issuer and subject, just-in-time users, managed roles and teams aligned at every sign-in,
and the refusals (a name taken by a local user, a disabled user, a team that is missing).
The flow against a real provider is tests/web/test_sso_browser.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from steward.domain.audit import AuditFilter
from steward.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated
from steward.domain.permissions import OPERATOR, Principal
from steward.services import audit, identity, sso, tokens
from steward.services.context import Context
from steward.settings import Settings

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
ISSUER = "https://login.example.org"
RULES = (
    "groups=validators -> role:validator; groups=validators -> team:mv; groups=ok -> role:approver"
)


@pytest.fixture
def sso_ctx(ctx: Context) -> Context:
    identity.create_team(ctx, OP, "mv")
    settings: Settings = ctx.settings.with_(
        oidc_issuer=ISSUER, oidc_client_id="steward", oidc_rules=RULES
    )
    return Context(settings=settings, uow=ctx.uow, artifacts=ctx.artifacts)


def _claims(sub: str, name: str, *groups: str) -> dict[str, Any]:
    return {"sub": sub, "preferred_username": name, "groups": list(groups), "name": "N"}


def _payloads(ctx: Context, action: str) -> list[dict[str, Any]]:
    found = audit.list_events(ctx, OP, AuditFilter(action=action))
    return [json.loads(e.payload) if isinstance(e.payload, str) else e.payload for e in found]


def test_first_sign_in_creates_and_binds_then_roles_follow_the_groups(sso_ctx: Context) -> None:
    first = sso.sign_in(sso_ctx, _claims("s-1", "dana", "validators", "ok"), method="browser")
    assert first.created and first.user.roles == {"validator", "approver"}
    assert first.user.teams == {"mv"}
    assert tokens.authenticate(sso_ctx, first.token.token).name == "dana"
    identity.grant_role(sso_ctx, OP, "dana", "auditor")  # no rule names it: it stays
    # The provider renames her: the binding (issuer, subject) still finds her.
    again = sso.sign_in(sso_ctx, _claims("s-1", "dana.chen", "ok"), method="browser")
    assert not again.created and again.user.name == "dana"
    assert again.user.roles == {"approver", "auditor"} and again.user.teams == frozenset()
    assert again.revoked == ("role:validator", "team:mv")
    revoked = _payloads(sso_ctx, "role.revoked")
    assert revoked == [{"role": "validator", "source": "sso", "issuer": ISSUER}]
    assert _payloads(sso_ctx, "team.member_removed")[0]["source"] == "sso"
    assert len(_payloads(sso_ctx, "auth.sso_linked")) == 1


def test_a_local_user_of_that_name_is_not_taken_over(sso_ctx: Context) -> None:
    identity.create_user(sso_ctx, OP, "root", roles=("admin",))
    with pytest.raises(Conflict, match="already exists and is not yours"):
        sso.sign_in(sso_ctx, _claims("attacker", "ROOT", "validators"), method="browser")
    assert identity.get_user(sso_ctx, OP, "root").roles == {"admin"}
    # Allowed by the administrator: the first sign-in links it; a second subject never can.
    linking = Context(
        settings=sso_ctx.settings.with_(oidc_link_existing=True),
        uow=sso_ctx.uow,
        artifacts=sso_ctx.artifacts,
    )
    linked = sso.sign_in(linking, _claims("root-sub", "root"), method="browser")
    assert linked.user.name == "root" and not linked.created
    with pytest.raises(Conflict):
        sso.sign_in(linking, _claims("other-sub", "root"), method="browser")


def test_disabled_users_and_missing_teams_are_refused_and_nothing_is_written(
    sso_ctx: Context,
) -> None:
    sso.sign_in(sso_ctx, _claims("s-2", "erin"), method="browser")
    identity.disable_user(sso_ctx, OP, "erin")
    with pytest.raises(Unauthenticated, match="disabled"):
        sso.sign_in(sso_ctx, _claims("s-2", "erin", "validators"), method="browser")
    assert identity.get_user(sso_ctx, OP, "erin").roles == frozenset()
    identity.delete_team(sso_ctx, OP, "mv")
    with pytest.raises(Conflict, match="steward team create mv"):
        sso.sign_in(sso_ctx, _claims("s-3", "fay", "validators"), method="browser")
    with pytest.raises(NotFound):
        identity.get_user(sso_ctx, OP, "fay")
    failed = _payloads(sso_ctx, "auth.login_failed")
    assert [(f["method"], f["subject"]) for f in failed] == [
        ("sso-browser", "s-2"),
        ("sso-browser", "s-3"),
    ]
    assert "disabled" in failed[0]["reason"] and "team create mv" in failed[1]["reason"]


def test_sso_needs_configuration_and_passwords_can_be_switched_off(ctx: Context) -> None:
    with pytest.raises(NotFound, match="STEWARD_OIDC_ISSUER"):
        sso.sign_in(ctx, _claims("s", "x"), method="browser")
    identity.create_user(ctx, OP, "gail", password="a long enough passphrase")
    off = Context(
        settings=ctx.settings.with_(local_passwords=False), uow=ctx.uow, artifacts=ctx.artifacts
    )
    with pytest.raises(Forbidden, match="STEWARD_LOCAL_PASSWORDS=false"):
        identity.login(off, "gail", "a long enough passphrase")
    assert identity.login(ctx, "gail", "a long enough passphrase").info.user == "gail"


def test_settings_read_the_sso_environment() -> None:
    env = {
        "STEWARD_HOME": "/tmp/x",
        "STEWARD_OIDC_ISSUER": ISSUER,
        "STEWARD_OIDC_CLIENT_ID": "steward",
        "STEWARD_OIDC_CLIENT_SECRET": "s",
        "STEWARD_OIDC_RULES": RULES,
        "STEWARD_LOCAL_PASSWORDS": "off",
        "STEWARD_OIDC_LINK_EXISTING": "yes",
    }
    settings = Settings.from_env(env)
    assert settings.sso_enabled and not settings.local_passwords and settings.oidc_link_existing
    assert settings.oidc_rules == RULES
    with pytest.raises(ValueError, match="STEWARD_LOCAL_PASSWORDS"):
        Settings.from_env({**env, "STEWARD_LOCAL_PASSWORDS": "maybe"})
