"""Signing, deploy records and webhooks through the SDK (embedded and HTTP), the server's
background worker, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run
from tests.trust.receiver import receiver

from steward.domain import trust
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.trust import DeployStatus
from steward.domain.webhooks import DeliveryStatus
from steward.sdk.client import Steward

LIGHT_PACK = """\
pack: light
version: "1"
requirements:
  - id: review.current
    kind: review_current
    to: [production]
    controls: ["nist-ai-rmf:GOVERN 1.5"]
"""


def _promoted(st: Steward, tmp_path: Path, payload: bytes = b"approved weights") -> Path:
    # Steward signs what a policy pack let into production.
    st.load_policy(text=LIGHT_PACK, activate=True)
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(payload)
    st.create_model("credit")
    st.log_version("credit", artifact=artifact, capture_git=False)
    for stage in ("validation", "approved", "production"):
        st.transition("credit", 1, to=stage, justification=f"to {stage}")
    return artifact


def test_signatures_and_deploy_records_through_both_backends(
    client: Steward, tmp_path: Path
) -> None:
    artifact = _promoted(client, tmp_path)
    [record] = client.signatures("credit", 1)
    assert record.manifest["artifact"]["sha256"] == client.get_version("credit", 1).artifact.sha256
    written = client.export_signature("credit", 1, tmp_path / "sig")
    assert {p.name for p in written} == {
        trust.MANIFEST_FILE,
        trust.MANIFEST_SIGNATURE_FILE,
        trust.MODEL_SIGNATURE_FILE,
        trust.PUBLIC_KEY_FILE,
    }
    pinned = tmp_path / "pinned.pub"
    pinned.write_text(client.signing_key().public_key)
    report = client.verify_artifact(
        artifact, manifest=tmp_path / "sig" / trust.MANIFEST_FILE, public_key=pinned
    )
    assert report.ok, report.checks

    verified = client.record_deployment(
        "credit", environment="prod", artifact=artifact, details={"host": "a"}
    )
    assert (verified.status, verified.version, verified.signed) == (DeployStatus.VERIFIED, 1, True)
    foreign = client.record_deployment("credit", environment="prod", sha256="ab" * 32)
    assert foreign.status is DeployStatus.MISMATCH and foreign.finding_id is not None
    assert client.deployments(model="credit", status="mismatch") == [foreign]
    assert [d.id for d in client.deployments(environment="prod")] == [foreign.id, verified.id]
    with pytest.raises(InvalidInput, match="not a sha256"):
        client.record_deployment("credit", environment="prod", sha256="xyz")
    with pytest.raises(InvalidInput, match="either sha256 or artifact"):
        client.record_deployment("credit", environment="prod")
    with pytest.raises(NotFound, match="has not been signed"):
        client.log_version("credit", artifact=artifact, capture_git=False)  # same bytes, v2
        client.export_signature("credit", 2, tmp_path / "none")


def test_webhooks_through_both_backends(client: Steward, tmp_path: Path) -> None:
    with receiver() as rx:
        made = client.create_webhook(rx.url, events=["finding.opened"], description="risk team")
        rx.secret = made.secret
        assert made.secret.startswith("whsec_")
        assert client.webhooks() == [made.webhook]
        assert client.get_webhook(made.webhook.id) == made.webhook
        _promoted(client, tmp_path)
        client.record_deployment("credit", environment="prod", sha256="cd" * 32)  # finding
        report = client.deliver_webhooks()
        if report.attempted == 0:  # the server's own worker may have been first
            rx.wait_for(1)
        [got] = rx.wait_for(1)
        assert got.valid and got.event == "finding.opened"
        [logged] = client.webhook_deliveries(made.webhook.id)
        assert logged.status is DeliveryStatus.DELIVERED and logged.log[0].status_code == 200
        assert client.webhook_deliveries(made.webhook.id, status="pending") == []
        gone = client.delete_webhook(made.webhook.id)
        assert not gone.active and client.webhooks() == []
        assert client.webhooks(include_deleted=True) == [gone]
    with pytest.raises(NotFound, match="steward webhook list"):
        client.get_webhook("wh_nope")
    with pytest.raises(InvalidInput, match="Unknown webhook event"):
        client.create_webhook("https://example.com/h", events=["nope"])


def test_the_server_delivers_in_the_background(remote: Steward, tmp_path: Path) -> None:
    with receiver() as rx:
        made = remote.create_webhook(rx.url, events=["transition.applied"])
        rx.secret = made.secret
        artifact = tmp_path / "m.bin"
        artifact.write_bytes(b"w")
        remote.create_model("credit")
        remote.log_version("credit", artifact=artifact, capture_git=False)
        remote.transition("credit", 1, to="validation", justification="go")
        [got] = rx.wait_for(1, timeout=20)  # nobody called deliver: the server's worker did
    assert got.valid and got.json()["data"]["to"] == "validation"


def test_cli_signature_verify_deploy_and_webhooks(tmp_path: Path) -> None:
    import steward

    home = tmp_path / "store"
    st = steward.connect(home=str(home), actor="alice")
    try:
        artifact = _promoted(st, tmp_path)
    finally:
        st.close()
    sig = tmp_path / "sig"
    written = as_json(home, "signature", "export", "credit", "1", "-o", str(sig))
    assert len(written) == 4
    shown = as_json(home, "signature", "show", "credit", "1")
    assert shown[0]["manifest"]["model"] == "credit"
    key = as_json(home, "signature", "key")
    assert key["algorithm"] == "ecdsa-p256-sha256"
    ok(home, "signature", "key", "-o", str(tmp_path / "pinned.pub"))

    # offline: artifact beside the manifest by default, or --manifest
    (sig / "model.bin").write_bytes(artifact.read_bytes())
    good = ok(home, "verify", str(sig / "model.bin"), "--public-key", str(tmp_path / "pinned.pub"))
    assert "Verified: credit version 1" in flat(good.stdout)
    report = as_json(home, "verify", str(artifact), "--manifest", str(sig / trust.MANIFEST_FILE))
    assert report["ok"] is True
    artifact.write_bytes(b"tampered")
    bad = run(home, "verify", str(artifact), "--manifest", str(sig / trust.MANIFEST_FILE))
    assert bad.exit_code == 1
    assert "FAILED" in flat(bad.stdout) and "do not deploy" in flat(bad.stderr)

    recorded = as_json(
        home,
        "deploy",
        "record",
        "credit",
        "--environment",
        "prod",
        "--artifact",
        str(sig / "model.bin"),
        "--detail",
        "host=srv-1",
    )
    assert recorded["status"] == "verified" and recorded["details"] == {"host": "srv-1"}
    mismatch = run(home, "deploy", "record", "credit", "-e", "prod", "--sha256", "ef" * 32)
    assert mismatch.exit_code == 1
    assert "unapproved artifact" in flat(mismatch.stderr) and "opened finding" in flat(
        mismatch.stderr
    )
    listed = as_json(home, "deploy", "list", "--model", "credit")
    assert [d["status"] for d in listed] == ["mismatch", "verified"]
    assert "mismatch" in flat(ok(home, "deploy", "list").stdout)
    refused = run(home, "deploy", "record", "credit", "-e", "prod", "--sha256", "nope")
    assert refused.exit_code == 1 and "not a sha256 digest" in flat(refused.stderr)

    with receiver() as rx:
        made = as_json(
            home,
            "webhook",
            "create",
            rx.url,
            "--event",
            "deploy.mismatch",
            "--event",
            "finding.opened",
        )
        rx.secret = made["secret"]
        hook_id = made["webhook"]["id"]
        assert as_json(home, "webhook", "list")[0]["events"] == [
            "finding.opened",
            "deploy.mismatch",
        ]
        run(home, "deploy", "record", "credit", "-e", "prod", "--sha256", "01" * 32)
        sent = as_json(home, "webhook", "deliver")
        assert sent == {"attempted": 2, "delivered": 2, "retrying": 0, "failed": 0}
        got = rx.wait_for(2)
        assert {r.event for r in got} == {"finding.opened", "deploy.mismatch"}
        assert all(r.valid for r in got)
    log = as_json(home, "webhook", "deliveries", hook_id)
    assert [d["status"] for d in log] == ["delivered", "delivered"]
    assert "delivered" in flat(ok(home, "webhook", "deliveries", hook_id).stdout)
    assert "Deleted webhook" in ok(home, "webhook", "delete", hook_id).stdout
    missing = run(home, "webhook", "delete", "wh_nope")
    assert missing.exit_code == 1 and "steward webhook list" in flat(missing.stderr)


def test_verify_needs_no_store_or_server(tmp_path: Path) -> None:
    """`steward verify` in a pipeline: no STEWARD_HOME, no server — only the files."""
    import steward

    home = tmp_path / "store"
    st = steward.connect(home=str(home), actor="alice")
    try:
        artifact = _promoted(st, tmp_path)
        st.export_signature("credit", 1, tmp_path / "sig")
    finally:
        st.close()
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("steward")),
            "verify",
            str(artifact),
            "--manifest",
            str(tmp_path / "sig" / trust.MANIFEST_FILE),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path / "sig",
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STEWARD_URL": "http://127.0.0.1:9"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    assert not (tmp_path / "sig" / ".steward").exists()
