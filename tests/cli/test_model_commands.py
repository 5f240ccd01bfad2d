"""`steward model create|list|show|update|history` on an embedded store and a server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer


def test_create_prints_the_record_and_json_has_every_field(tmp_path: Path) -> None:
    shown = flat(
        ok(
            tmp_path,
            "model",
            "create",
            "credit-scoring",
            "--title",
            "Consumer credit",
            "--purpose",
            "Approve loans",
            "--team",
            "Retail Risk",
            "--tag",
            "retail",
            "--tag",
            "credit",
            "--risk-tier",
            "high",
            "--regulatory-category",
            "high",
            "--override-reason",
            "tiered by the model risk committee",
            "--next-review-date",
            "2027-03-31",
        ).stdout
    )
    assert "Model credit-scoring" in shown
    for label, value in [
        ("title", "Consumer credit"),
        ("purpose", "Approve loans"),
        ("owner", "alice"),
        ("team", "Retail Risk"),
        ("risk tier", "high"),
        ("regulatory category", "high"),
        ("tags", "credit, retail"),
        ("next review", "2027-03-31"),
        ("several in production", "no"),
        ("latest version", "-"),
    ]:
        assert f"{label} {value}" in shown, label

    made = as_json(
        tmp_path, "model", "create", "churn", "--owner", "bob", "--allow-multiple-production"
    )
    assert set(made) == {
        "name",
        "title",
        "description",
        "purpose",
        "business_unit",
        "owner",
        "team",
        "risk_tier",
        "regulatory_category",
        "tags",
        "status",
        "next_review_date",
        "allow_multiple_production",
        "created_at",
        "created_by",
        "updated_at",
        "latest_version",
        "positive_means",
    }
    assert (made["name"], made["owner"], made["created_by"]) == ("churn", "bob", "alice")
    assert made["allow_multiple_production"] is True
    assert made["risk_tier"] == "unassessed"


def test_list_filters_table_json_and_pages(tmp_path: Path) -> None:
    ok(tmp_path, "model", "create", "credit", "--team", "risk", "--tag", "retail", "--title", "C")
    ok(tmp_path, "model", "create", "churn", "--team", "marketing", "--tag", "retail")
    ok(
        tmp_path,
        "model",
        "create",
        "fraud",
        "--team",
        "risk",
        "--risk-tier",
        "critical",
        "--override-reason",
        "interim tier",
    )

    table = flat(ok(tmp_path, "model", "list").stdout)
    assert "name title owner team risk EU AI Act latest tags next review" in table
    assert "credit C alice risk unassessed unassessed - retail" in table
    assert "fraud alice risk critical" in table
    assert "More:" not in table

    def names(*args: str) -> list[str]:
        return [m["name"] for m in as_json(tmp_path, "model", "list", *args)["items"]]

    assert names() == ["churn", "credit", "fraud"]
    assert names("--team", "risk") == ["credit", "fraud"]
    assert names("--tag", "retail", "--team", "risk") == ["credit"]
    assert names("--risk-tier", "critical") == ["fraud"]
    assert names("-q", "FRAU") == ["fraud"]

    first = as_json(tmp_path, "model", "list", "--limit", "2")
    assert [m["name"] for m in first["items"]] == ["churn", "credit"]
    assert first["next_cursor"]
    assert names("--limit", "2", "--cursor", first["next_cursor"]) == ["fraud"]
    paged = flat(ok(tmp_path, "model", "list", "--limit", "2").stdout)
    assert f"More: --cursor {first['next_cursor']}" in paged


def test_show_lists_versions_and_json_has_model_and_versions(tmp_path: Path) -> None:
    ok(tmp_path, "model", "create", "credit")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(tmp_path, "version", "create", "credit", str(artifact), "--no-git")
    ok(tmp_path, "version", "alias", "credit", "champion", "1")
    shown = flat(ok(tmp_path, "model", "show", "credit").stdout)
    assert "latest version 1" in shown
    assert "Versions (newest first)" in shown
    assert "1 development other 7 champion" in shown
    data = as_json(tmp_path, "model", "show", "credit")
    assert data["model"]["name"] == "credit"
    assert [(v["version"], v["aliases"]) for v in data["versions"]] == [(1, ["champion"])]


def test_update_changes_are_recorded_field_by_field_in_the_audit_log(tmp_path: Path) -> None:
    ok(tmp_path, "model", "create", "credit", "--title", "Old", "--tag", "a", "--tag", "b")
    updated = as_json(
        tmp_path,
        "model",
        "update",
        "credit",
        "--title",
        "New",
        "--add-tag",
        "c",
        "--remove-tag",
        "a",
        "--risk-tier",
        "medium",
        "--override-reason",
        "interim tier",
        "--team",
        "",
    )
    assert updated["title"] == "New"
    assert updated["tags"] == ["b", "c"]
    assert updated["risk_tier"] == "medium"

    events = as_json(tmp_path, "audit", "log", "--model", "credit", "--action", "model.updated")
    assert len(events) == 1
    payload = json.loads(events[0]["payload"])
    assert payload == {
        "fields": ["risk_tier", "tags", "title"],  # team was already ""
        "before": {"risk_tier": "unassessed", "tags": ["a", "b"], "title": "Old"},
        "after": {"risk_tier": "medium", "tags": ["b", "c"], "title": "New"},
    }
    log = flat(ok(tmp_path, "audit", "log", "--model", "credit").stdout)
    assert "model.updated model:credit" in log
    assert "risk_tier: 'unassessed' -> 'medium'" in log
    assert "tags: ['a', 'b'] -> ['b', 'c']" in log
    assert "title: 'Old' -> 'New'" in log

    # An update that changes nothing records nothing.
    ok(tmp_path, "model", "update", "credit", "--title", "New")
    assert len(as_json(tmp_path, "audit", "log", "--action", "model.updated")) == 1


def test_update_refuses_bad_values_naming_the_choices(tmp_path: Path) -> None:
    ok(tmp_path, "model", "create", "credit")
    result = run(tmp_path, "model", "update", "credit", "--status", "archived")
    assert result.exit_code == 1
    assert "Invalid status 'archived'; use one of: proposed, active, retired." in result.stderr
    result = run(tmp_path, "model", "update", "credit")
    assert result.exit_code == 1
    assert "Nothing to update" in result.stderr
    result = run(tmp_path, "model", "update", "nope", "--title", "x")
    assert result.exit_code == 1
    assert "Model 'nope' does not exist. List models with `steward model list`." in result.stderr
    assert len(as_json(tmp_path, "audit", "log")) == 1


def test_history_now_at_a_past_moment_and_bad_times(tmp_path: Path) -> None:
    ok(tmp_path, "model", "create", "credit")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(tmp_path, "version", "create", "credit", str(artifact), "--no-git")
    for stage in ("validation", "approved", "production"):
        ok(tmp_path, "version", "transition", "credit", "1", "--to", stage, "-m", "ok")
    ok(tmp_path, "version", "alias", "credit", "champion", "1")

    now = flat(ok(tmp_path, "model", "history").stdout)
    assert "As of" in now
    assert "credit 1 champion=1 v1:production" in now
    entries = as_json(tmp_path, "model", "history", "credit")
    assert [(e["model"], e["production"], e["aliases"]) for e in entries] == [
        ("credit", [1], {"champion": 1})
    ]
    created = as_json(tmp_path, "audit", "log", "--action", "version.created")[0]["time"]
    then = as_json(tmp_path, "model", "history", "credit", "--at", created)
    assert then[0]["production"] == []
    assert then[0]["stages"] == {"1": "development"}
    offset = as_json(tmp_path, "model", "history", "--at", "2000-01-01T01:00:00+01:00")
    assert offset == []

    bad = run(tmp_path, "model", "history", "--at", "yesterday")
    assert bad.exit_code == 2
    assert "'yesterday' is not an ISO 8601 time; use e.g. 2026-03-01T00:00Z." in flat(bad.stderr)
    naive = run(tmp_path, "model", "history", "--at", "2026-03-01T00:00")
    assert naive.exit_code == 2
    assert "has no time zone; add Z for UTC or an offset" in flat(naive.stderr)
    unknown = run(tmp_path, "model", "history", "nope")
    assert unknown.exit_code == 1
    assert "Model 'nope' does not exist" in unknown.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_model_commands_against_a_server(
    tmp_path: Path, live_server: LiveServer, token: str
) -> None:
    remote = ["--url", live_server.url, "--token", token]
    made = as_json(tmp_path / "unused", *remote, "model", "create", "credit", "--team", "risk")
    assert (made["created_by"], made["owner"]) == ("alice", "alice")
    table = flat(ok(tmp_path / "unused", *remote, "model", "list").stdout)
    assert "credit alice risk" in table
    ok(tmp_path / "unused", *remote, "model", "update", "credit", "--title", "Remote")
    assert as_json(tmp_path / "unused", *remote, "model", "show", "credit")["model"]["title"] == (
        "Remote"
    )
    missing = run(tmp_path / "unused", *remote, "model", "show", "nope")
    assert missing.exit_code == 1
    assert "Model 'nope' does not exist" in missing.stderr
    assert not (tmp_path / "unused").exists()  # nothing embedded was created
