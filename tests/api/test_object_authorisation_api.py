"""The model takeover over REST: bob, owner of another model, against alice's model.

Six requests the security campaign sent with bob's ordinary owner token, all of
which succeeded; each must now be answered 403 problem+json and change nothing.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.cli.helpers import flat, run
from tests.conftest import LiveServer, ensure_user
from tests.services.test_object_authorisation import ADMIN, credit_scoring, snapshot

from steward.services import models, tokens
from steward.services.context import Context


def test_bob_cannot_take_over_credit_scoring_over_rest(
    ctx: Context, live_server: LiveServer, tmp_path: Path
) -> None:
    credit_scoring(ctx, tmp_path)
    before = snapshot(ctx)
    bob = tokens.create_token(ctx, ADMIN, user="bob", name="attack").token
    base = "/api/v1/models/credit-scoring"
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {bob}"}, timeout=60
    ) as client:
        attacks = [
            client.patch(base, json={"owner": "bob"}),
            client.post(f"{base}/versions", files={"artifact": ("m.bin", b"bob's weights")}),
            client.post(
                f"{base}/versions/4/transitions", json={"to": "validation", "justification": "x"}
            ),
            client.put(f"{base}/aliases/champion", json={"version": 4}),
            client.put(
                f"{base}/versions/4/narratives", json={"fields": {"intended_use": "Bob's."}}
            ),
            client.patch(base, json={"title": "Bob's model now"}),
        ]
        for response in attacks:
            assert response.status_code == 403, (response.request.url, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "credit-scoring" in response.json()["detail"]
        # his own model answers as before
        own = client.patch("/api/v1/models/diabetes", json={"title": "Mine"})
        assert own.status_code == 200, own.text
    assert snapshot(ctx) == before


def test_a_user_without_a_role_cannot_download_artifacts(
    ctx: Context, live_server: LiveServer, tmp_path: Path
) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    ensure_user(ctx, "nora")
    nora = tokens.create_token(ctx, ADMIN, user="nora", name="t").token
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {nora}"}, timeout=60
    ) as client:
        path = "/api/v1/models/credit-scoring/versions/1"
        assert client.get(path).status_code == 200
        refused = client.get(f"{path}/artifact")
        assert refused.status_code == 403
        assert refused.json()["permission"] == "artifact:read"
        assert b"weights" not in refused.content


def test_the_cli_and_sdk_against_a_server_get_the_same_refusal(
    ctx: Context, live_server: LiveServer, tmp_path: Path
) -> None:
    import steward
    from steward.domain.errors import Forbidden

    credit_scoring(ctx, tmp_path, count=1)
    bob = tokens.create_token(ctx, ADMIN, user="bob", name="cli").token
    remote = ["--url", live_server.url, "--token", bob]
    result = run(
        tmp_path / "unused", *remote, "model", "update", "credit-scoring", "--owner", "bob"
    )
    assert result.exit_code != 0
    assert "credit-scoring" in flat(result.output) and "model:reassign" in flat(result.output)
    client = steward.connect(live_server.url, token=bob)
    try:
        with pytest.raises(Forbidden, match="only on models they own"):
            client.set_alias("credit-scoring", "champion", 1)
    finally:
        client.close()
    assert models.get_model(ctx, ADMIN, "credit-scoring").owner == "alice"
