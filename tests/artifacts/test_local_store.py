"""The local content-addressed artifact store: layout, dedupe, verified downloads, refusals."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from steward import bootstrap
from steward.artifacts.store import ArtifactStore
from steward.domain.errors import ArtifactError, ArtifactTooLarge, IntegrityError, NotFound
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.sdk.client import Steward
from steward.services import models, versions
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables as t

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MakeFile = Callable[[bytes, str], Path]


def _blobs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _version_rows(ctx: Context) -> int:
    with ctx.uow.read() as uow:
        return int(uow.conn.execute(select(func.count()).select_from(t.model_versions)).scalar())


def test_blobs_are_content_addressed_and_stored_once(tmp_path: Path, make_file: MakeFile) -> None:
    store = ArtifactStore(str(tmp_path / "store"))
    data = b"some model bytes"
    digest = hashlib.sha256(data).hexdigest()
    path = make_file(data, "m.bin")
    assert store.put(path, digest) is True
    assert store.put(make_file(data, "copy.bin"), digest) is False
    expected = tmp_path / "store" / "sha256" / digest[:2] / digest[2:4] / digest
    assert store.key(digest) == str(expected)
    assert _blobs(tmp_path / "store") == [expected]
    assert expected.read_bytes() == data
    assert store.exists(digest) and store.size(digest) == len(data)
    assert b"".join(store.iter_verified(digest)) == data
    store.delete(digest)
    assert not store.exists(digest)
    store.delete(digest)  # deleting a missing blob is not an error
    with pytest.raises(NotFound, match=f"Artifact {digest} is recorded but missing"):
        store.download(digest, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()


@SQLITE_ONLY
def test_same_bytes_in_two_versions_share_one_blob(
    local: Steward, ctx: Context, make_file: MakeFile, tmp_path: Path
) -> None:
    local.create_model("a")
    local.create_model("b")
    v1 = local.log_version("a", artifact=make_file(b"same", "m.bin"), capture_git=False)
    v2 = local.log_version("b", artifact=make_file(b"same", "other.bin"), capture_git=False)
    assert v1.artifact.sha256 == v2.artifact.sha256 == hashlib.sha256(b"same").hexdigest()
    assert v1.artifact.filename.endswith("m.bin")
    assert v2.artifact.filename.endswith("other.bin")  # each version keeps its own name
    assert _blobs(Path(ctx.settings.artifacts_url)) == [Path(ctx.artifacts.key(v1.artifact.sha256))]
    out = local.download("b", 1, tmp_path)
    assert out.name == v2.artifact.filename
    assert out.read_bytes() == b"same"


@SQLITE_ONLY
def test_corrupted_blob_is_detected_and_nothing_is_written(
    local: Steward, ctx: Context, make_file: MakeFile, tmp_path: Path
) -> None:
    local.create_model("m")
    data = os.urandom(3 * 1024 * 1024)  # several chunks
    version = local.log_version("m", artifact=make_file(data, "m.bin"), capture_git=False)
    blob = Path(ctx.artifacts.key(version.artifact.sha256))
    good = tmp_path / "good.bin"
    assert local.download("m", 1, good).read_bytes() == data

    corrupted = bytearray(data)
    corrupted[-1] ^= 0xFF  # flip one bit in the last chunk
    blob.write_bytes(bytes(corrupted))
    outdir = tmp_path / "downloads"
    outdir.mkdir()
    dest = outdir / "m.bin"
    with pytest.raises(IntegrityError) as err:
        local.download("m", 1, dest)
    assert err.value.detail.startswith(f"Artifact {version.artifact.sha256} in ")
    assert hashlib.sha256(bytes(corrupted)).hexdigest() in err.value.detail
    assert "Restore it from a backup" in err.value.detail
    assert list(outdir.iterdir()) == []  # neither the file nor a partial one
    # an existing file at the destination is left untouched
    dest.write_bytes(b"previous")
    with pytest.raises(IntegrityError):
        local.download("m", 1, dest)
    assert dest.read_bytes() == b"previous"
    assert list(outdir.iterdir()) == [dest]


@SQLITE_ONLY
def test_corrupted_folder_artifact_leaves_no_folder(
    local: Steward, ctx: Context, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    local.create_model("m")
    version = local.log_version("m", artifact=src, capture_git=False)
    blob = Path(ctx.artifacts.key(version.artifact.sha256))
    blob.write_bytes(blob.read_bytes()[:-1] + b"\x01")
    outdir = tmp_path / "out"
    outdir.mkdir()
    with pytest.raises(IntegrityError):
        local.download("m", 1, outdir / "restored")
    assert list(outdir.iterdir()) == []


@SQLITE_ONLY
def test_oversized_artifact_is_refused_and_nothing_is_stored(
    settings: Settings, alice: Principal, make_file: MakeFile
) -> None:
    ctx = bootstrap.build(settings.with_(max_artifact_bytes=1000), migrate=True)
    try:
        models.create_model(ctx, alice, "m")
        with pytest.raises(ArtifactTooLarge) as err:
            versions.create_version(ctx, alice, "m", VersionSpec(), make_file(b"x" * 1001, "m"))
        assert err.value.detail == (
            "The artifact is 1001 bytes; this store accepts at most 1000 "
            "(STEWARD_MAX_ARTIFACT_BYTES)."
        )
        assert err.value.status == 413
        assert _blobs(Path(settings.artifacts_url)) == []
        assert _version_rows(ctx) == 0
        assert models.get_model(ctx, alice, "m").latest_version == 0
        # exactly at the limit is fine
        ok = versions.create_version(ctx, alice, "m", VersionSpec(), make_file(b"x" * 1000, "m"))
        assert ok.version == 1
    finally:
        ctx.uow.engine.dispose()


@SQLITE_ONLY
def test_artifact_that_changed_in_transit_is_refused(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "m")
    path = make_file(b"arrived", "m.bin")
    claimed = hashlib.sha256(b"sent").hexdigest()
    with pytest.raises(ArtifactError, match="it was corrupted in transit"):
        versions.create_version(ctx, alice, "m", VersionSpec(), path, sha256=claimed)
    assert _blobs(Path(ctx.settings.artifacts_url)) == []
    assert _version_rows(ctx) == 0


@SQLITE_ONLY
def test_missing_path_is_refused_with_a_clear_message(
    local: Steward, ctx: Context, alice: Principal, tmp_path: Path
) -> None:
    local.create_model("m")
    missing = tmp_path / "does-not-exist.onnx"
    with pytest.raises(ArtifactError) as err:
        local.log_version("m", artifact=missing, capture_git=False)
    assert err.value.detail == (
        f"Artifact path {str(missing)!r} does not exist or is not a file or folder."
    )
    dangling = tmp_path / "link.bin"
    dangling.symlink_to(tmp_path / "gone.bin")
    with pytest.raises(ArtifactError, match="does not exist or is not a file or folder"):
        local.log_version("m", artifact=dangling, capture_git=False)
    # the service says the same thing in its own words
    with pytest.raises(ArtifactError, match="Cannot read the artifact: No such file or directory"):
        versions.create_version(ctx, alice, "m", VersionSpec(), missing)
    assert _version_rows(ctx) == 0
    assert _blobs(Path(ctx.settings.artifacts_url)) == []


@pytest.fixture
def unreadable(tmp_path: Path) -> Path:
    """A file that exists but cannot be read by this process."""
    if os.geteuid() != 0:
        path = tmp_path / "secret.bin"
        path.write_bytes(b"x")
        path.chmod(0)
        return path
    if sys.platform.startswith("linux"):  # root reads anything; this file always fails
        return Path("/proc/self/mem")
    pytest.skip("no unreadable file available to root on this platform")


@SQLITE_ONLY
def test_unreadable_file_is_refused_with_a_clear_message(
    local: Steward, ctx: Context, unreadable: Path
) -> None:
    local.create_model("m")
    with pytest.raises(ArtifactError) as err:
        local.log_version("m", artifact=unreadable, capture_git=False)
    assert re.fullmatch(
        rf"Cannot read artifact {re.escape(repr(str(unreadable)))}: "
        r"(Permission denied|Input/output error)\.",
        err.value.detail,
    ), err.value.detail
    assert _version_rows(ctx) == 0
    assert _blobs(Path(ctx.settings.artifacts_url)) == []


@SQLITE_ONLY
def test_a_failed_write_leaves_no_partial_blob(
    ctx: Context, alice: Principal, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:3])  # half written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    models.create_model(ctx, alice, "m")
    with pytest.raises(ArtifactError, match=r"Could not write the artifact to .*No space left"):
        versions.create_version(ctx, alice, "m", VersionSpec(), make_file(b"payload", "m.bin"))
    assert _blobs(Path(ctx.settings.artifacts_url)) == []
    assert _version_rows(ctx) == 0
