"""Users, teams, roles, passwords and login — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, insert, select
from tests.conftest import Clock

from steward import bootstrap
from steward.domain.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from steward.domain.permissions import (
    NO_ROLE,
    OPERATOR,
    ROLE_PERMISSIONS,
    Permission,
    Principal,
    Role,
    authorize,
)
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import identity, tokens
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables as t

OP = Principal(name="root", roles=frozenset({OPERATOR}))
PASSWORD = "correct horse battery staple"


def actions(ctx: Context) -> list[tuple[str, str, str, dict[str, object]]]:
    with ctx.uow.read() as uow:
        return [
            (e.actor, e.action, e.subject_id, json.loads(e.payload)) for e in uow.audit.stream()
        ]


def counts(ctx: Context) -> tuple[int, ...]:
    with ctx.uow.read() as uow:
        return tuple(
            int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (t.users, t.user_roles, t.teams, t.team_members, t.audit_events)
        )


def as_user(ctx: Context, name: str) -> Principal:
    """What the server resolves a token of this user to."""
    made = tokens.create_token(ctx, OP, user=name, name="test")
    return tokens.authenticate(ctx, made.token)


# -- the role table (pure) ---------------------------------------------------------------


def test_the_role_table_says_who_may_do_what() -> None:
    everyone = frozenset(Permission)
    assert ROLE_PERMISSIONS[Role.ADMIN] == everyone
    assert {Permission.MODEL_READ, Permission.VERSION_READ} == NO_ROLE
    # An auditor reads everything and changes nothing.
    reads = {
        Permission.MODEL_READ,
        Permission.VERSION_READ,
        Permission.AUDIT_READ,
        Permission.GOVERNANCE_READ,
        Permission.ARTIFACT_READ,
        Permission.EVIDENCE_EXPORT,
    }
    # ...and signs checkpoints of the journal: a signature over what exists, not a change.
    assert ROLE_PERMISSIONS[Role.AUDITOR] == reads | {Permission.AUDIT_CHECKPOINT}
    # Segregation of duties lives in the table too: only risk officers (and admins) waive,
    # owners request but never decide, approvers and validators decide but never request.
    holders = {p: {r for r, ps in ROLE_PERMISSIONS.items() if p in ps} for p in Permission}
    assert holders[Permission.WAIVER_GRANT] == {Role.ADMIN, Role.RISK_OFFICER}
    assert Role.OWNER not in holders[Permission.APPROVAL_DECIDE]
    assert holders[Permission.APPROVAL_REQUEST] == {Role.ADMIN, Role.OWNER}
    assert holders[Permission.USER_MANAGE] == {Role.ADMIN}
    assert holders[Permission.REVIEW_COMPLETE] == {Role.ADMIN, Role.VALIDATOR}
    # Whose model it is changes only by an admin's or risk officer's hand.
    assert holders[Permission.MODEL_REASSIGN] == {Role.ADMIN, Role.RISK_OFFICER}


def test_authorize_explains_itself() -> None:
    nobody = Principal(name="nora")
    assert authorize(nobody, Permission.MODEL_READ).allowed
    denied = authorize(nobody, Permission.MODEL_WRITE)
    assert not denied.allowed
    assert denied.reason == (
        "nora may not model:write: they hold no role; it is granted by admin, owner. "
        "An admin grants a role with `steward user grant nora ROLE`."
    )
    auditor = Principal(name="ada", roles=frozenset({"auditor"}))
    assert authorize(auditor, Permission.AUDIT_READ).reason == (
        "ada holds role auditor, which grants it"
    )
    refused = authorize(auditor, Permission.WAIVER_GRANT)
    assert "they hold roles auditor" in refused.reason
    assert "granted by admin, risk_officer" in refused.reason
    # a stale role name in the store grants nothing
    stale = Principal(name="x", roles=frozenset({"wizard"}))
    assert not authorize(stale, Permission.MODEL_WRITE).allowed
    assert authorize(OP, Permission.USER_MANAGE).allowed
    anon = Principal(name="anonymous", anonymous=True)
    assert authorize(anon, Permission.VERSION_READ).allowed
    assert not authorize(anon, Permission.AUDIT_READ).allowed  # the journal needs a role
    assert not authorize(anon, Permission.ARTIFACT_READ).allowed
    assert not authorize(anon, Permission.GOVERNANCE_READ).allowed
    assert not authorize(Principal(name="x"), Permission.AUDIT_READ).allowed


# -- users -----------------------------------------------------------------------------------


def test_create_show_and_list_users(ctx: Context) -> None:
    identity.create_team(ctx, OP, "model-validation", title="Model validation")
    made = identity.create_user(
        ctx,
        OP,
        "vera",
        display_name="Vera Validator",
        email="vera@example.org",
        roles=["validator", "Approver"],
        teams=["model-validation"],
    )
    assert made.roles == {"validator", "approver"}
    assert made.teams == {"model-validation"}
    assert (made.active, made.has_password, made.created_by) == (True, False, "root")
    identity.create_user(ctx, OP, "otto", roles=["owner"])
    assert identity.get_user(ctx, OP, "vera") == made
    assert [u.name for u in identity.list_users(ctx, OP)] == ["otto", "vera"]
    assert [u.name for u in identity.list_users(ctx, OP, role="validator")] == ["vera"]
    assert [u.name for u in identity.list_users(ctx, OP, team="model-validation")] == ["vera"]
    assert identity.list_users(ctx, OP, active=False) == []
    assert identity.get_team(ctx, OP, "model-validation").members == ("vera",)
    # `uow.users.get` is what other services read
    with ctx.uow.read() as uow:
        got = uow.users.get("vera")
    assert got is not None and got.roles == {"validator", "approver"}
    event = actions(ctx)[-1]
    assert event == (
        "root",
        "user.created",
        "otto",
        {"display_name": "", "email": "", "roles": ["owner"], "teams": [], "password_set": False},
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"name": "-bad"}, InvalidInput, "Invalid user name '-bad'"),
        ({"name": "a b"}, InvalidInput, "Invalid user name"),
        (
            {"name": "ok", "roles": ["wizard"]},
            InvalidInput,
            "Unknown role 'wizard'; roles are: admin",
        ),
        ({"name": "ok", "teams": ["nope"]}, NotFound, "steward team create nope"),
        ({"name": "ok", "email": "not-mail"}, InvalidInput, "Invalid e-mail address"),
        ({"name": "ok", "password": "short"}, InvalidInput, "at least 12 characters"),
        ({"name": "ok", "password": "okokokokokokok"}, InvalidInput, "4 different characters"),
        ({"name": "Alice"}, AlreadyExists, "'alice' already exists; 'Alice' differs only in case"),
        ({"name": "alice"}, AlreadyExists, "A user named 'alice' already exists."),
    ],
)
def test_bad_users_are_refused_and_nothing_is_written(
    ctx: Context, kwargs: dict[str, object], error: type[Exception], needle: str
) -> None:
    identity.create_user(ctx, OP, "alice")
    before = counts(ctx)
    rest = dict(kwargs)  # the parameters are shared by the SQLite and PostgreSQL runs
    name = str(rest.pop("name"))
    with pytest.raises(error) as caught:
        identity.create_user(ctx, OP, name, **rest)  # type: ignore[arg-type]
    assert needle in str(caught.value)
    assert counts(ctx) == before


def test_only_admins_manage_users_and_a_denied_role_change_is_journalled(ctx: Context) -> None:
    identity.create_user(ctx, OP, "adam", roles=["admin"])
    identity.create_user(ctx, OP, "otto", roles=["owner"])
    otto = as_user(ctx, "otto")
    assert otto.roles == {"owner"}
    with pytest.raises(Forbidden, match="otto may not user:manage: they hold roles owner"):
        identity.create_user(ctx, otto, "eve")
    before = counts(ctx)
    with pytest.raises(Forbidden, match="granted by admin"):
        identity.grant_role(ctx, otto, "otto", "admin")
    assert identity.get_user(ctx, OP, "otto").roles == {"owner"}
    # the attempt is in the journal (and nothing else changed)
    assert counts(ctx)[:4] == before[:4]
    assert actions(ctx)[-1] == ("otto", "role.denied", "otto", {"role": "admin", "change": "grant"})
    # an admin (by token) may
    adam = as_user(ctx, "adam")
    assert identity.grant_role(ctx, adam, "otto", "validator").roles == {"owner", "validator"}
    assert identity.revoke_role(ctx, adam, "otto", "owner").roles == {"validator"}
    # granting twice or revoking what is not held records nothing
    seq = len(actions(ctx))
    identity.grant_role(ctx, adam, "otto", "validator")
    identity.revoke_role(ctx, adam, "otto", "owner")
    assert len(actions(ctx)) == seq
    assert [a[1:3] for a in actions(ctx)[-2:]] == [
        ("role.granted", "otto"),
        ("role.revoked", "otto"),
    ]
    with pytest.raises(InvalidInput, match="Unknown role 'boss'"):
        identity.grant_role(ctx, adam, "otto", "boss")
    with pytest.raises(NotFound, match="steward user create ghost"):
        identity.grant_role(ctx, adam, "ghost", "owner")


def test_the_last_active_admin_cannot_be_removed(ctx: Context) -> None:
    identity.create_user(ctx, OP, "adam", roles=["admin"])
    with pytest.raises(Conflict, match="adam is the last active admin"):
        identity.revoke_role(ctx, OP, "adam", "admin")
    with pytest.raises(Conflict, match="last active admin"):
        identity.disable_user(ctx, OP, "adam")
    identity.create_user(ctx, OP, "beth", roles=["admin"])
    adam = as_user(ctx, "adam")
    with pytest.raises(Conflict, match="may not disable themselves"):
        identity.disable_user(ctx, adam, "adam")
    assert identity.revoke_role(ctx, adam, "adam", "admin").roles == frozenset()


def test_disabling_a_user_stops_their_tokens_at_once(ctx: Context) -> None:
    identity.create_user(ctx, OP, "otto", roles=["owner"])
    first = tokens.create_token(ctx, OP, user="otto", name="laptop")
    second = tokens.create_token(ctx, OP, user="otto", name="ci")
    assert tokens.authenticate(ctx, first.token).name == "otto"
    off = identity.disable_user(ctx, OP, "otto", reason="left the company")
    assert not off.active and off.disabled_at is not None
    for made in (first, second):
        with pytest.raises(Unauthenticated, match="was revoked"):
            tokens.authenticate(ctx, made.token)
    event = actions(ctx)[-1]
    assert event[1:3] == ("user.disabled", "otto")
    revoked = event[3]["revoked_tokens"]
    assert isinstance(revoked, list)
    assert sorted(revoked) == sorted([first.info.id, second.info.id])
    with pytest.raises(Conflict, match="User otto is disabled"):
        tokens.create_token(ctx, OP, user="otto")
    assert identity.enable_user(ctx, OP, "otto").active
    with pytest.raises(Unauthenticated):  # old tokens stay revoked
        tokens.authenticate(ctx, first.token)
    assert as_user(ctx, "otto").roles == {"owner"}


def test_a_token_stops_working_when_its_user_is_disabled_even_if_not_revoked(
    ctx: Context,
) -> None:
    identity.create_user(ctx, OP, "otto", roles=["owner"])
    made = tokens.create_token(ctx, OP, user="otto")
    with ctx.uow.write() as uow:  # e.g. a row disabled by hand in the database
        uow.users.update("otto", uow.now, active=False)
        uow.commit()
    with pytest.raises(Unauthenticated, match="belongs to user otto, who is disabled"):
        tokens.authenticate(ctx, made.token)


def test_tokens_are_only_for_existing_users(ctx: Context) -> None:
    before = counts(ctx)
    with pytest.raises(NotFound) as caught:
        tokens.create_token(ctx, OP, user="ghost")
    assert "No user named 'ghost'" in str(caught.value)
    assert "`steward user create ghost --role ROLE`" in str(caught.value)
    assert counts(ctx) == before


def test_principals_carry_roles_and_teams(ctx: Context) -> None:
    identity.create_team(ctx, OP, "risk")
    identity.create_user(ctx, OP, "rita", roles=["risk_officer"], teams=["risk"])
    rita = as_user(ctx, "rita")
    assert (rita.roles, rita.teams) == (frozenset({"risk_officer"}), frozenset({"risk"}))
    identity.add_member(ctx, OP, "risk", "rita")  # already a member: nothing recorded
    identity.create_team(ctx, OP, "ethics", members=["rita"])
    assert as_user(ctx, "rita").teams == {"risk", "ethics"}
    team = identity.remove_member(ctx, OP, "risk", "rita")
    assert team.members == ()
    with pytest.raises(NotFound, match="rita is not a member of team risk"):
        identity.remove_member(ctx, OP, "risk", "rita")
    assert identity.delete_team(ctx, OP, "ethics").members == ("rita",)
    assert as_user(ctx, "rita").teams == frozenset()
    assert [a[1] for a in actions(ctx) if a[1].startswith("team.")] == [
        "team.created",
        "team.created",
        "team.member_removed",
        "team.deleted",
    ]
    with pytest.raises(AlreadyExists, match="steward team show risk"):
        identity.create_team(ctx, OP, "risk")
    with pytest.raises(InvalidInput, match="Invalid team name 'Risk Team'"):
        identity.create_team(ctx, OP, "Risk Team")


def test_users_may_read_and_edit_themselves_only(ctx: Context) -> None:
    identity.create_user(ctx, OP, "nora")
    identity.create_user(ctx, OP, "otto", roles=["owner"])
    nora = as_user(ctx, "nora")
    assert identity.get_user(ctx, nora, "nora").name == "nora"
    with pytest.raises(Forbidden, match="governance:read"):
        identity.get_user(ctx, nora, "otto")
    changed = identity.update_user(ctx, nora, "nora", display_name="Nora N", email="n@x.org")
    assert (changed.display_name, changed.email) == ("Nora N", "n@x.org")
    assert actions(ctx)[-1][3] == {
        "before": {"display_name": "", "email": ""},
        "after": {"display_name": "Nora N", "email": "n@x.org"},
    }
    with pytest.raises(Forbidden, match="user:manage"):
        identity.update_user(ctx, nora, "otto", display_name="X")
    with pytest.raises(InvalidInput, match="Nothing to update"):
        identity.update_user(ctx, nora, "nora")


# -- passwords and login ---------------------------------------------------------------------


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


def test_login_issues_a_short_lived_token_with_the_users_roles(
    timed: Context, clock: Clock
) -> None:
    ctx = timed
    identity.create_team(ctx, OP, "validation")
    identity.create_user(
        ctx, OP, "vera", roles=["validator"], teams=["validation"], password=PASSWORD
    )
    with ctx.uow.read() as uow:
        stored = uow.users.password_hash("vera")
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    session = identity.login(ctx, "vera", PASSWORD)
    assert session.info.name == "login session" and session.info.user == "vera"
    assert session.info.expires_at is not None
    assert (session.info.expires_at - session.info.created_at).total_seconds() == 8 * 3600
    who = tokens.authenticate(ctx, session.token)
    assert (who.name, set(who.roles), set(who.teams)) == ("vera", {"validator"}, {"validation"})
    event = actions(ctx)[-1]
    assert event[:3] == ("vera", "auth.login", "vera")
    assert event[3]["token"] == session.info.id
    clock.advance(hours=8, seconds=1)
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.authenticate(ctx, session.token)


def test_failed_logins_are_refused_and_journalled_without_secrets(ctx: Context) -> None:
    identity.create_user(ctx, OP, "vera", roles=["validator"], password=PASSWORD)
    identity.create_user(ctx, OP, "nopass")
    attempts = [
        ("vera", "wrong password guess", "wrong password"),
        ("mallory", "whatever it is", "unknown user"),
        ("nopass", "anything at all", "no password set"),
    ]
    for name, guess, _ in attempts:
        with pytest.raises(Unauthenticated) as caught:
            identity.login(ctx, name, guess)
        # the same answer whatever went wrong: nothing to learn about who exists
        assert str(caught.value) == (
            "Wrong user name or password. An admin can set a new password with "
            "`steward user password NAME`."
        )
    failed = [a for a in actions(ctx) if a[1] == "auth.login_failed"]
    assert [(a[0], a[2], a[3]["reason"]) for a in failed] == [
        ("vera", "vera", "wrong password"),
        ("unknown user", "unknown user", "unknown user"),  # what was typed is not kept
        ("nopass", "nopass", "no password set"),
    ]
    journal = json.dumps(actions(ctx))
    assert all(guess not in journal for _, guess, _ in attempts) and PASSWORD not in journal
    with ctx.uow.read() as uow:
        assert uow.tokens.all(None) == []
    # a disabled user with the right password is told why
    identity.create_user(ctx, OP, "adam", roles=["admin"])
    identity.disable_user(ctx, OP, "vera")
    with pytest.raises(Unauthenticated, match=r"User vera is disabled; .*steward user enable vera"):
        identity.login(ctx, "vera", PASSWORD)
    assert actions(ctx)[-1][1:] == ("auth.login_failed", "vera", {"reason": "user disabled"})
    with pytest.raises(InvalidInput, match="user name"):
        identity.login(ctx, "  ", PASSWORD)


def test_a_password_typed_as_the_user_name_never_reaches_the_journal(ctx: Context) -> None:
    """The campaign found a password typed into the user field stored as the actor."""
    identity.create_user(ctx, OP, "vera", roles=["validator"], password=PASSWORD)
    # From three addresses: failures from one client are journalled once per window.
    attempts = ("Tr0ub4dor&3-vera-secret", "Tr0ub4dor&3-vera-secret", "mallory")
    for i, typed in enumerate(attempts):
        with pytest.raises(Unauthenticated):
            identity.login(ctx, typed, PASSWORD, client=f"192.0.2.{i + 1}")
    failed = [a for a in actions(ctx) if a[1] == "auth.login_failed"]
    assert "Tr0ub4dor" not in json.dumps(actions(ctx)) and "mallory" not in json.dumps(failed)
    digests = [a[3]["attempt"] for a in failed]
    # the same text gives the same keyed digest (repeated attempts show), another text not
    assert digests[0] == digests[1] != digests[2] and all(len(d) == 16 for d in digests)
    assert {a[0] for a in failed} == {"unknown user"}


def test_setting_passwords(ctx: Context) -> None:
    identity.create_user(ctx, OP, "adam", roles=["admin"])
    identity.create_user(ctx, OP, "nora")
    nora = as_user(ctx, "nora")
    # an admin sets it; the user changes it with the current one
    assert identity.set_password(ctx, as_user(ctx, "adam"), "nora", PASSWORD).has_password
    assert actions(ctx)[-1][1:] == (
        "user.password_set",
        "nora",
        {"by": "admin", "ended_sessions": []},
    )
    new = "another fine passphrase"
    with pytest.raises(Forbidden, match="give the current one"):
        identity.set_password(ctx, nora, "nora", new)
    with pytest.raises(Forbidden, match="give the current one"):
        identity.set_password(ctx, nora, "nora", new, current_password="wrong guess here")
    identity.set_password(ctx, nora, "nora", new, current_password=PASSWORD)
    assert actions(ctx)[-1][1:] == (
        "user.password_set",
        "nora",
        {"by": "self", "ended_sessions": []},
    )
    assert identity.login(ctx, "nora", new).info.user == "nora"
    with pytest.raises(Unauthenticated):
        identity.login(ctx, "nora", PASSWORD)
    with pytest.raises(Forbidden, match="user:manage"):
        identity.set_password(ctx, nora, "adam", new)
    identity.create_user(ctx, OP, "nora.explorer")
    with pytest.raises(InvalidInput, match="may not be the user name"):
        identity.set_password(ctx, OP, "nora.explorer", "NORA.EXPLORER")


# -- embedded mode ---------------------------------------------------------------------------


def test_the_embedded_operator_keeps_every_permission_plus_stored_roles(ctx: Context) -> None:
    st = Steward(LocalBackend(ctx, "olga"))
    assert st._backend.principal.roles == {OPERATOR}  # type: ignore[attr-defined]
    st.create_team("ops")
    st.create_user("olga", roles=["validator"], teams=["ops"])
    principal = st._backend.principal  # type: ignore[attr-defined]
    assert principal.roles == {OPERATOR, "validator"} and principal.teams == {"ops"}
    # the operator may do what a validator alone may not
    assert st.create_model("credit").created_by == "olga"
    st.disable_user("olga")
    assert st._backend.principal.roles == {OPERATOR}  # type: ignore[attr-defined]


# -- migration 0002 --------------------------------------------------------------------------


def test_migration_0002_makes_every_token_user_an_admin(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from steward.store import database

    engine = database.make_engine(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(database.MIGRATIONS))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
        from datetime import UTC, datetime

        now = datetime(2026, 1, 1, tzinfo=UTC)
        with engine.begin() as conn:
            for i, user in enumerate(["alice", "ci-bot", "alice"]):
                conn.execute(
                    insert(t.api_tokens).values(
                        id=f"tok_{i}",
                        user=user,
                        name="",
                        token_hash=f"{i:064d}",
                        created_at=now,
                        created_by="admin",
                    )
                )
        assert database.migrate(engine) == ("0001", database.SCHEMA_HEAD)
        with engine.connect() as conn:
            users = conn.execute(select(t.users.c.name, t.users.c.active)).all()
            roles = conn.execute(select(t.user_roles.c.user, t.user_roles.c.role)).all()
        assert sorted(users) == [("alice", True), ("ci-bot", True)]
        assert sorted(roles) == [("alice", "admin"), ("ci-bot", "admin")]
    finally:
        engine.dispose()
