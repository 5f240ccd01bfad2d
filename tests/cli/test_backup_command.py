"""`steward backup` and `steward restore` from the command line (host operations)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run


@pytest.fixture
def backed_up(tmp_path: Path) -> tuple[Path, Path, str]:
    home = tmp_path / "store"
    ok(home, "init")
    ok(home, "model", "create", "credit")
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"credit model weights")
    ok(home, "version", "create", "credit", str(model_file))
    ok(home, "audit", "checkpoint")
    dest = tmp_path / "backup"
    result = ok(home, "backup", str(dest))
    text = flat(result.stdout)
    assert "Backed up schema" in text and "1 artifact objects" in text
    assert "This backup holds the key files: encrypt it" in flat(result.stderr)
    manifest = (dest / "manifest.json").read_bytes()
    assert f"manifest sha256 {hashlib.sha256(manifest).hexdigest()}" in text
    return home, dest, hashlib.sha256(b"credit model weights").hexdigest()


def test_restore_brings_the_store_up_in_a_new_home(
    tmp_path: Path, backed_up: tuple[Path, Path, str]
) -> None:
    home, dest, digest = backed_up
    fresh = tmp_path / "fresh"
    result = ok(fresh, "restore", str(dest))
    assert "Check it with `steward audit verify`" in flat(result.stdout)
    assert "Audit chain intact" in flat(ok(fresh, "audit", "verify").stdout)
    assert ok(fresh, "audit", "reconcile").exit_code == 0
    got = tmp_path / "downloaded.bin"
    ok(fresh, "version", "download", "credit", "1", "-o", str(got))
    assert hashlib.sha256(got.read_bytes()).hexdigest() == digest
    assert as_json(fresh, "model", "show", "credit") == as_json(home, "model", "show", "credit")
    keys = sorted(p.name for p in (home / "keys").iterdir())
    assert {"audit.key", "log-key.pem"} <= set(keys)
    for key in keys:
        assert (fresh / "keys" / key).read_bytes() == (home / "keys" / key).read_bytes()
        assert (fresh / "keys" / key).stat().st_mode & 0o777 == 0o600


def test_restore_refuses_a_store_that_is_not_empty(backed_up: tuple[Path, Path, str]) -> None:
    home, dest, _ = backed_up
    result = run(home, "restore", str(dest))
    assert result.exit_code != 0
    message = flat(result.stderr)
    assert "is not empty" in message and "Create a new database" in message


def test_restore_refuses_a_corrupted_backup_naming_the_file(
    tmp_path: Path, backed_up: tuple[Path, Path, str]
) -> None:
    _, dest, digest = backed_up
    blob = dest / "artifacts" / "sha256" / digest[:2] / digest[2:4] / digest
    blob.write_bytes(b"not the model")
    result = run(tmp_path / "fresh", "restore", str(dest))
    assert result.exit_code != 0
    assert f"artifacts/sha256/{digest[:2]}/{digest[2:4]}/{digest} does not match" in flat(
        result.stderr
    )
    assert not (tmp_path / "fresh" / "keys").exists()


def test_without_keys_and_json(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ok(home, "model", "create", "credit")
    report = as_json(home, "backup", str(tmp_path / "b"), "--without-keys")
    assert report["keys"] == [] and report["rows"] > 0
    assert not (tmp_path / "b" / "keys").exists()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["format"] == "steward-backup/1"
    fresh = tmp_path / "fresh"
    restored = ok(fresh, "restore", str(tmp_path / "b"))
    assert "The backup holds no key files: put the original ones" in flat(restored.stderr)
    refused = run(fresh, "audit", "verify")
    assert refused.exit_code != 0 and "no audit key is available" in flat(refused.output)
    (fresh / "keys").mkdir(exist_ok=True)
    (fresh / "keys" / "audit.key").write_bytes((home / "keys" / "audit.key").read_bytes())
    assert "Audit chain intact" in flat(ok(fresh, "audit", "verify").stdout)


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_refuse_a_remote_server(tmp_path: Path, command: str) -> None:
    result = run(tmp_path, "--url", "http://127.0.0.1:9", command, str(tmp_path / "b"))
    assert result.exit_code != 0
    assert f"run `steward {command}` on the server host, without --url" in flat(result.stderr)
