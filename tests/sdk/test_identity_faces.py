"""Users, teams, roles and login through the SDK, embedded and over HTTP (both databases)."""

from __future__ import annotations

import pytest

from steward.domain.errors import AlreadyExists, Conflict, InvalidInput, NotFound, Unauthenticated
from steward.sdk.client import Steward

PASSWORD = "correct horse battery staple"


def test_users_and_teams_through_every_backend(client: Steward) -> None:
    team = client.create_team("risk", title="Model risk", members=[])
    assert (team.name, team.title, team.members) == ("risk", "Model risk", ())
    rita = client.create_user(
        "rita", display_name="Rita R", roles=["risk_officer"], teams=["risk"], password=PASSWORD
    )
    assert (rita.roles, rita.teams, rita.has_password) == (
        frozenset({"risk_officer"}),
        frozenset({"risk"}),
        True,
    )
    assert client.get_user("rita") == rita
    assert client.grant_role("rita", "approver").roles == {"risk_officer", "approver"}
    assert client.revoke_role("rita", "approver").roles == {"risk_officer"}
    assert client.update_user("rita", email="rita@example.org").email == "rita@example.org"
    client.create_user("vic", roles=["validator"])
    assert client.add_team_member("risk", "vic").members == ("rita", "vic")
    assert client.remove_team_member("risk", "vic").members == ("rita",)
    assert [u.name for u in client.list_users(team="risk")] == ["rita"]
    assert [t.name for t in client.list_teams()] == ["risk"]
    assert client.get_team("risk").members == ("rita",)

    session = client.login("rita", PASSWORD)
    assert session.info.user == "rita" and session.token.startswith("stw_")
    with pytest.raises(Unauthenticated, match="Wrong user name or password"):
        client.login("rita", "not the password")
    assert not client.disable_user("vic", reason="moved on").active
    assert [u.name for u in client.list_users(active=False)] == ["vic"]
    assert client.enable_user("vic").active
    assert client.set_password("vic", PASSWORD).has_password
    assert client.delete_team("risk").name == "risk"

    with pytest.raises(InvalidInput, match="Unknown role 'wizard'"):
        client.grant_role("vic", "wizard")
    with pytest.raises(NotFound, match="steward user create ghost"):
        client.get_user("ghost")
    with pytest.raises(AlreadyExists):
        client.create_user("RITA")
    with pytest.raises(NotFound, match="No user named 'ghost'"):
        client.create_token("ghost")
    client.disable_user("vic")
    with pytest.raises(Conflict, match="User vic is disabled"):
        client.create_token("vic")
