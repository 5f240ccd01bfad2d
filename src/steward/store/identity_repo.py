"""Users, their roles and teams (``uow.users``), and teams (``uow.teams``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal, select, union_all, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.identity import Team, User
from steward.store import tables as t

_u = t.users.c
_r = t.user_roles.c
_m = t.team_members.c
_t = t.teams.c

# Hot path (every authenticated request): built once, with bind parameters.
_ACTIVE = select(_u.active).where(_u.name == bindparam("name"))
_GRANTS = union_all(
    select(literal("r").label("kind"), _r.role.label("value")).where(_r.user == bindparam("name")),
    select(literal("t").label("kind"), _m.team.label("value")).where(_m.user == bindparam("name")),
)


class UserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- reads ---------------------------------------------------------------------------

    def get(self, name: str) -> User | None:
        row = self.conn.execute(select(t.users).where(_u.name == name)).mappings().first()
        return None if row is None else self._hydrate([row])[0]

    def grants(self, name: str) -> tuple[bool, frozenset[str], frozenset[str]] | None:
        """(active, roles, teams) of a user, or None: what a token's principal carries."""
        active = self.conn.execute(_ACTIVE, {"name": name}).scalar_one_or_none()
        if active is None:
            return None
        roles: set[str] = set()
        teams: set[str] = set()
        for kind, value in self.conn.execute(_GRANTS, {"name": name}):
            (roles if kind == "r" else teams).add(value)
        return bool(active), frozenset(roles), frozenset(teams)

    def name_taken(self, name: str) -> str | None:
        """The existing user whose name differs from ``name`` only in case, if any."""
        found = self.conn.execute(
            select(_u.name).where(func.lower(_u.name) == name.lower()).limit(1)
        ).scalar_one_or_none()
        return None if found is None else str(found)

    def password_hash(self, name: str) -> str | None:
        found = self.conn.execute(
            select(_u.password_hash).where(_u.name == name)
        ).scalar_one_or_none()
        return None if found is None else str(found)

    def search(
        self, *, role: str | None = None, team: str | None = None, active: bool | None = None
    ) -> list[User]:
        query = select(t.users).order_by(_u.name)
        if role:
            query = query.where(_u.name.in_(select(_r.user).where(_r.role == role)))
        if team:
            query = query.where(_u.name.in_(select(_m.user).where(_m.team == team)))
        if active is not None:
            query = query.where(_u.active == active)
        return self._hydrate(list(self.conn.execute(query).mappings()))

    def count_active_with_role(self, role: str) -> int:
        query = (
            select(func.count())
            .select_from(t.users.join(t.user_roles, _r.user == _u.name))
            .where(_r.role == role, _u.active.is_(True))
        )
        return int(self.conn.execute(query).scalar_one())

    def _hydrate(self, rows: list[RowMapping]) -> list[User]:
        names = [r["name"] for r in rows]
        roles: dict[str, set[str]] = defaultdict(set)
        teams: dict[str, set[str]] = defaultdict(set)
        if names:
            for user, role in self.conn.execute(select(_r.user, _r.role).where(_r.user.in_(names))):
                roles[user].add(role)
            for user, team in self.conn.execute(select(_m.user, _m.team).where(_m.user.in_(names))):
                teams[user].add(team)
        return [
            User(
                name=r["name"],
                display_name=r["display_name"],
                email=r["email"],
                active=bool(r["active"]),
                roles=frozenset(roles[r["name"]]),
                teams=frozenset(teams[r["name"]]),
                has_password=r["password_hash"] is not None,
                created_at=r["created_at"],
                created_by=r["created_by"],
                updated_at=r["updated_at"],
                disabled_at=r["disabled_at"],
            )
            for r in rows
        ]

    # -- writes --------------------------------------------------------------------------

    def insert(
        self, *, name: str, display_name: str, email: str, created_by: str, now: datetime
    ) -> None:
        self.conn.execute(
            insert(t.users).values(
                name=name,
                display_name=display_name,
                email=email,
                active=True,
                created_at=now,
                created_by=created_by,
                updated_at=now,
            )
        )

    def update(self, name: str, now: datetime, **values: Any) -> None:
        self.conn.execute(update(t.users).where(_u.name == name).values(updated_at=now, **values))

    def set_password(self, name: str, password_hash: str, now: datetime) -> None:
        self.update(name, now, password_hash=password_hash, password_changed_at=now)

    def add_role(self, name: str, role: str, by: str, now: datetime) -> None:
        self.conn.execute(
            insert(t.user_roles).values(user=name, role=role, granted_by=by, granted_at=now)
        )

    def remove_role(self, name: str, role: str) -> None:
        self.conn.execute(delete(t.user_roles).where(_r.user == name, _r.role == role))


class TeamRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, name: str) -> Team | None:
        row = self.conn.execute(select(t.teams).where(_t.name == name)).mappings().first()
        return None if row is None else self._hydrate([row])[0]

    def all(self) -> list[Team]:
        return self._hydrate(list(self.conn.execute(select(t.teams).order_by(_t.name)).mappings()))

    def missing(self, names: Iterable[str]) -> list[str]:
        wanted = set(names)
        if not wanted:
            return []
        found = set(self.conn.execute(select(_t.name).where(_t.name.in_(wanted))).scalars())
        return sorted(wanted - found)

    def _hydrate(self, rows: list[RowMapping]) -> list[Team]:
        names = [r["name"] for r in rows]
        members: dict[str, list[str]] = defaultdict(list)
        if names:
            query = select(_m.team, _m.user).where(_m.team.in_(names)).order_by(_m.user)
            for team, user in self.conn.execute(query):
                members[team].append(user)
        return [
            Team(
                name=r["name"],
                title=r["title"],
                description=r["description"],
                members=tuple(members[r["name"]]),
                created_at=r["created_at"],
                created_by=r["created_by"],
                line=r["line"],
            )
            for r in rows
        ]

    def lines(self, names: Iterable[str]) -> dict[str, str | None]:
        """Each named team's line of defence now (teams that no longer exist are left out)."""
        wanted = set(names)
        if not wanted:
            return {}
        query = select(_t.name, _t.line).where(_t.name.in_(wanted))
        return {name: line for name, line in self.conn.execute(query)}

    def insert(
        self,
        *,
        name: str,
        title: str,
        description: str,
        by: str,
        now: datetime,
        line: str | None = None,
    ) -> None:
        self.conn.execute(
            insert(t.teams).values(
                name=name,
                title=title,
                description=description,
                created_at=now,
                created_by=by,
                line=line,
            )
        )

    def update(self, name: str, **values: Any) -> None:
        self.conn.execute(update(t.teams).where(_t.name == name).values(**values))

    def delete(self, name: str) -> None:
        self.conn.execute(delete(t.team_members).where(_m.team == name))
        self.conn.execute(delete(t.teams).where(_t.name == name))

    def is_member(self, team: str, user: str) -> bool:
        query = select(_m.user).where(_m.team == team, _m.user == user)
        return self.conn.execute(query).first() is not None

    def add_member(self, team: str, user: str, by: str, now: datetime) -> None:
        self.conn.execute(
            insert(t.team_members).values(team=team, user=user, added_by=by, added_at=now)
        )

    def remove_member(self, team: str, user: str) -> None:
        self.conn.execute(delete(t.team_members).where(_m.team == team, _m.user == user))
