"""`steward connection create|list|show|delete` on the embedded store."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import as_json, flat, ok, run


def test_connections_are_created_listed_shown_and_deleted(tmp_path: Path) -> None:
    home = tmp_path / "store"
    lake = tmp_path / "lake"
    lake.mkdir()
    made = as_json(
        home,
        "connection",
        "create",
        "lake",
        "--kind",
        "folder",
        "--location",
        str(lake),
        "--role",
        "owner",
        "--description",
        "monitoring batches",
    )
    assert made["kind"] == "folder" and made["roles"] == ["owner"]
    secret = "do-not-print-me-0123"
    as_json(
        home,
        "connection",
        "create",
        "objects",
        "--kind",
        "s3",
        "--location",
        "s3://logs/monitoring",
        "--option",
        "endpoint_url=http://127.0.0.1:9",
        "--credential",
        "key=AKIA",
        "--credential",
        f"secret={secret}",
    )
    listed = flat(ok(home, "connection", "list").stdout)
    assert "lake folder" in listed and "objects s3 s3://logs/monitoring" in listed
    shown = ok(home, "connection", "show", "objects").stdout
    assert "key, secret (sealed)" in flat(shown) and secret not in shown
    assert secret not in ok(home, "connection", "list", "--json").stdout
    assert "Deleted connection lake" in ok(home, "connection", "delete", "lake").stdout
    assert [c["name"] for c in as_json(home, "connection", "list")] == ["objects"]
    journal = ok(home, "audit", "log", "--json").stdout
    assert "connection.created" in journal and "connection.deleted" in journal
    assert secret not in journal


def test_bad_connections_are_refused_with_the_fix(tmp_path: Path) -> None:
    home = tmp_path / "store"
    bad = run(home, "connection", "create", "x", "--kind", "ftp", "--location", "/srv")
    assert bad.exit_code == 1 and "kinds are folder, s3, postgresql" in bad.output
    meta = run(
        home,
        "connection",
        "create",
        "pg",
        "--kind",
        "postgresql",
        "--location",
        "postgresql://u@169.254.169.254/db",
    )
    assert meta.exit_code == 1 and "metadata" in meta.output
    missing = run(home, "connection", "show", "ghost")
    assert missing.exit_code == 1 and "steward connection create" in missing.output
