"""Witnesses through the SDK, embedded and over HTTP (REST /api/v1/audit/witnesses...)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.conftest import LiveServer

from steward.domain.errors import AlreadyExists, InvalidInput, NotFound
from steward.sdk.client import Steward
from steward.trust import witness


def test_register_cosign_submit_and_remove(client: Steward, tmp_path: Path) -> None:
    key = witness.generate("auditor.example", tmp_path / "w.pem")
    added = client.add_witness("auditor.example", key.verifier_key)
    assert added.name == "auditor.example" and added.created_by == "alice"
    with pytest.raises(AlreadyExists):
        client.add_witness("auditor.example", key.verifier_key)
    with pytest.raises(InvalidInput):
        client.add_witness("auditor.example", "garbage")
    assert [w.verifier_key for w in client.witnesses()] == [key.verifier_key]
    made = client.create_checkpoint(publish_to=None)
    # the log's verifier key is published next to the checkpoint
    vkey = (Path(made.published_to[0]) / "log-key.vkey").read_text().strip()
    note = tmp_path / "cosigned.txt"
    note.write_text(witness.cosign(key, made.note, vkey))
    stored = client.submit_cosignature(note)  # found by its tree size
    assert stored.id == made.id and stored.cosigners == ("auditor.example",)
    assert client.checkpoints()[0].cosigners == ("auditor.example",)
    # a cosignature by a key nobody registered is refused
    stranger = witness.generate("stranger", tmp_path / "s.pem")
    with pytest.raises(InvalidInput, match="registered witness key"):
        client.submit_cosignature(witness.cosign(stranger, made.note, vkey), checkpoint=made.id)
    client.remove_witness("auditor.example")
    assert client.witnesses() == []
    with pytest.raises(NotFound):
        client.remove_witness("auditor.example")


def test_rest_problem_for_a_cosignature_of_an_unknown_checkpoint(
    live_server: LiveServer, token: str
) -> None:
    response = httpx.post(
        f"{live_server.url}/api/v1/audit/checkpoints/999/cosignatures",
        json={"note": "o\n1\n" + "A" * 43 + "=\n\n\u2014 w AAAAAAA=\n"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "steward audit checkpoint --list" in response.json()["detail"]
    response = httpx.post(
        f"{live_server.url}/api/v1/audit/witnesses",
        json={"name": "w", "public_key": "x", "extra": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
