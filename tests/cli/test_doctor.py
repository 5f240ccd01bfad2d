"""Attack (#12.15): kill -9 during uploads left temporary files in /tmp and artifact
objects with no version row. Uploads now spool under $STEWARD_HOME/spool (cleaned at
start-up), and `steward doctor --fix` removes dead spool files and unreferenced
objects older than the grace period, journalled; referenced objects stay."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.helpers import as_json, ok

from steward import bootstrap
from steward.api.app import create_app
from steward.domain.doctor import DoctorReport
from steward.sdk.client import Steward
from steward.settings import Settings
from steward.store.audit_repo import AuditFilter


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def _object(home: Path, content: bytes) -> tuple[str, Path]:
    digest = hashlib.sha256(content).hexdigest()
    path = home / "artifacts" / "sha256" / digest[:2] / digest[2:4] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return digest, path


def test_doctor_fix_removes_crash_leftovers_and_keeps_what_is_referenced(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    ok(home, "init")
    ok(home, "model", "create", "credit")
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"a real model")
    ok(home, "version", "create", "credit", str(model_file))
    kept_digest = hashlib.sha256(b"a real model").hexdigest()
    kept = home / "artifacts" / "sha256" / kept_digest[:2] / kept_digest[2:4] / kept_digest
    assert kept.exists()
    _age(kept, 48)  # old, but a version refers to it
    orphan_digest, orphan = _object(home, b"uploaded, then the server was killed")
    _age(orphan, 48)
    young_digest, young = _object(home, b"an upload still in flight")  # inside the grace
    spool = home / "spool"
    spool.mkdir()
    dead = spool / f"upload-{_dead_pid()}-abc123"
    dead.write_bytes(b"half an upload")
    live = spool / f"upload-{os.getpid()}-def456"  # a live process's upload
    live.write_bytes(b"in progress")

    found = as_json(home, "doctor", "--json")
    assert found["spool_files"] == [dead.name]
    assert found["orphan_objects"] == [orphan_digest]
    assert dead.exists() and orphan.exists()  # only looked

    fixed = as_json(home, "doctor", "--fix", "--json")
    assert fixed["orphan_objects"] == [orphan_digest] and fixed["fixed"] is True
    assert not dead.exists() and not orphan.exists()
    assert live.exists() and kept.exists() and young.exists()
    assert young_digest != orphan_digest
    ctx = bootstrap.build(Settings.from_env(home=home))
    try:
        with ctx.uow.read() as uow:
            (event,) = uow.audit.search(AuditFilter(action="store.cleaned"), 10)
        payload = event.payload_dict()
        assert payload["artifact_objects"] == [orphan_digest]
        assert payload["spool_files"] == [dead.name]
        assert ctx.artifacts.exists(kept_digest)  # the version's artifact is still there
    finally:
        ctx.uow.engine.dispose()


def test_server_start_up_clears_dead_uploads_from_the_spool(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 's.db'}",
        artifacts_url=str(tmp_path / "a"),
    )
    settings.spool_dir.mkdir(parents=True)
    dead = settings.spool_dir / f"upload-{_dead_pid()}-x"
    dead.write_bytes(b"left by kill -9")
    live = settings.spool_dir / f"upload-{os.getpid()}-y"
    live.write_bytes(b"another worker's upload")
    ctx = bootstrap.build(settings, migrate=True)
    try:
        create_app(ctx)
    finally:
        ctx.uow.engine.dispose()
    assert not dead.exists() and live.exists()


def test_doctor_through_the_sdk_embedded_and_over_http(client: Steward) -> None:
    report = client.doctor(fix=True)
    assert report == DoctorReport((), (), 0, True, report.checks)  # nothing to clean
    # the service's own checks come back too (over HTTP: the server checked itself)
    assert report.ok and [c.name for c in report.checks][-6:] == [
        "database",
        "artifacts",
        "worker",
        "single sign-on",
        "e-mail",
        "leftovers",
    ]
