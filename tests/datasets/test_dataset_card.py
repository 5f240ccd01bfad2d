"""The dataset card (datasheet) through the SDK (embedded and over HTTP: same content),
the CLI and REST: what it shows, that a hostile description stays text, and its PDF."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pandas as pd
import pytest

from steward.domain.errors import InvalidInput
from steward.sdk.client import Steward
from steward.services.context import Context
from tests.cli.helpers import flat, ok, run
from tests.conftest import LiveServer
from tests.datasets.test_dataset_faces import _token

FRAME = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "email": ["ann@example.com", "bob@example.org", "cy@example.net"],
        "purpose": ["car", "car", "boat"],
    }
)
RULES = "rules:\n  - kind: allowed_values\n    column: email\n    values: [ann@example.com]\n"
HOSTILE = "Loans <script>alert(1)</script> & <img src=x onerror=alert(2)>"


def _weasyprint() -> bool:
    try:
        return importlib.util.find_spec("weasyprint") is not None and bool(__import__("weasyprint"))
    except (ImportError, OSError):
        return False


def _governed(client: Steward, tmp_path: Path) -> None:
    """A dataset with rules, a passed and a failed snapshot, a scan, a review, an approval
    and a model version trained on it."""
    client.create_dataset(
        "loans",
        title="Loan applications",
        description=HOSTILE,
        owner="dana",
        classification="confidential",
        legal_basis="contract",
        consent_ref="CONSENT-7",
        retention="7y",
        licence="internal",
        tags=["credit"],
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    client.set_dataset_rules("loans", rules)
    client.snapshot_dataset("loans", FRAME.head(1))
    client.approve_dataset("loans@1", "fit for credit models")
    client.snapshot_dataset("loans", FRAME)  # fails: its samples are stored masked
    client.scan_dataset("loans@2")
    client.classify_column("loans@2", "email")
    client.create_model("credit")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    client.log_version("credit", artifact, training_data=FRAME.head(1))


def test_the_card_shows_inventory_versions_rules_personal_data_approvals_and_lineage(
    client: Steward, tmp_path: Path
) -> None:
    _governed(client, tmp_path)
    snapshot = client.get_dataset_version("loans@2")
    md = client.dataset_card("loans", "md").content.decode()
    for expected in (
        "# Dataset card: Loan applications (loans)",
        "**Owner:** dana",
        "**Classification:** confidential",
        "**Legal basis:** contract",
        "**Consent reference:** CONSENT-7",
        "**Retention:** 7y",
        "**Licence:** internal",
        "**Tags:** credit",
        snapshot.fingerprint,
        "| email | string |" if any(c.type == "string" for c in snapshot.schema) else "| email |",
        "allowed_values",
        "fit for credit models",
        "| credit | 1 |",
        "training",
        "confirmed by",
        f"by {client.actor}.*",
    ):
        assert expected in md, expected
    # rule samples and scan examples appear only as the services masked them
    assert "bob@example.org" not in md and "***" in md
    # the owner's hostile description reaches a Markdown reader as text
    assert "<script>" not in md and "&lt;script>" in md

    html = client.dataset_card("loans", "html").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "Loan applications" in html and snapshot.fingerprint in html
    assert "Generated at" in html
    with pytest.raises(InvalidInput, match="Unknown dataset card format"):
        client.dataset_card("loans", "docx")


@pytest.mark.skipif(not _weasyprint(), reason="WeasyPrint is not installed")
def test_the_pdf_card_is_a_pdf(local: Steward, tmp_path: Path) -> None:
    local.create_dataset("loans", title="Loans")
    local.snapshot_dataset("loans", FRAME)
    rendered = local.dataset_card("loans", "pdf", out=tmp_path / "card.pdf")
    assert rendered.content.startswith(b"%PDF")
    assert (tmp_path / "card.pdf").read_bytes() == rendered.content
    assert rendered.filename == "loans-dataset-card.pdf"


def test_the_cli_writes_the_card(tmp_path: Path) -> None:
    home = tmp_path / "store"
    data = tmp_path / "loans.csv"
    FRAME.to_csv(data, index=False)
    ok(home, "dataset", "create", "loans", "--source", str(data), "--owner", "dana")
    ok(home, "dataset", "snapshot", "loans")
    target = tmp_path / "card.md"
    said = flat(ok(home, "dataset", "card", "loans", "--format", "md", "-o", str(target)).stdout)
    assert f"Wrote {target}" in said
    text = target.read_text()
    assert "# Dataset card: loans (loans)" in text and "**Owner:** dana" in text
    bad = run(home, "dataset", "card", "loans", "--format", "docx")
    assert bad.exit_code != 0 and "use one of md, html, pdf" in flat(bad.output)
    missing = run(home, "dataset", "card", "nope")
    assert missing.exit_code != 0 and "nope" in flat(missing.output)


@pytest.fixture
def server(ctx: Context) -> LiveServer:
    with LiveServer(ctx) as live:
        yield live  # type: ignore[misc]


def test_rest_serves_the_card_to_readers_and_problems_for_bad_formats(
    ctx: Context, server: LiveServer
) -> None:
    dana = {"Authorization": f"Bearer {_token(ctx, 'dana', 'owner')}"}
    bob = {"Authorization": f"Bearer {_token(ctx, 'bob', 'owner')}"}
    upload = {"data": ("d.csv", FRAME.to_csv(index=False).encode())}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        made = http.post(
            "/api/v1/datasets", json={"name": "mine", "description": HOSTILE}, headers=dana
        )
        assert made.status_code == 201
        assert http.post("/api/v1/datasets/mine/versions", files=upload, headers=dana).is_success
        card = http.get("/api/v1/datasets/mine/card", params={"format": "md"}, headers=dana)
        assert card.status_code == 200 and card.headers["content-type"].startswith("text/markdown")
        assert 'filename="mine-dataset-card.md"' in card.headers["content-disposition"]
        assert "# Dataset card: mine (mine)" in card.text
        # datasets are governance records: another team's owner reads the card too
        # (no team-private datasets exist), while writes stay theirs (test_dataset_faces)
        html = http.get("/api/v1/datasets/mine/card", headers=bob)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "<script>alert" not in html.text
        bad = http.get("/api/v1/datasets/mine/card", params={"format": "docx"}, headers=dana)
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert "Unknown dataset card format" in bad.json()["detail"]
        # a dataset name is a name, never a path
        assert http.get("/api/v1/datasets/..%2Fetc/card", headers=dana).status_code in (404, 422)
        assert http.get("/api/v1/datasets/nope/card", headers=dana).status_code == 404
        assert http.get("/api/v1/datasets/mine/card").status_code == 401
