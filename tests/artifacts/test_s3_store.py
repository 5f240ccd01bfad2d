"""Artifacts on S3 (a real moto server): round trip, content-addressed keys, no duplicates."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from steward import bootstrap
from steward.domain.errors import IntegrityError
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.s3
MakeFile = Callable[[bytes, str], Path]


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"steward-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=name)
    monkeypatch.setenv("STEWARD_S3_ENDPOINT_URL", s3_server)
    return name


@pytest.fixture
def s3_ctx(settings: Settings, bucket: str) -> Iterator[Context]:
    context = bootstrap.build(
        settings.with_(artifacts_url=f"s3://{bucket}/registry/prod"), migrate=True
    )
    yield context
    context.uow.engine.dispose()


def keys(endpoint: str, bucket: str) -> list[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def test_versions_round_trip_through_s3(
    s3_ctx: Context, s3_server: str, bucket: str, make_file: MakeFile, tmp_path: Path
) -> None:
    client = Steward(LocalBackend(s3_ctx, "alice"))
    data = os.urandom(200_000)
    digest = hashlib.sha256(data).hexdigest()
    client.create_model("m")
    v1 = client.log_version("m", artifact=make_file(data, "model.onnx"), capture_git=False)
    assert v1.artifact.sha256 == digest

    expected_key = f"registry/prod/sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert keys(s3_server, bucket) == [expected_key]
    stored = s3_client(s3_server).get_object(Bucket=bucket, Key=expected_key)["Body"].read()
    assert stored == data

    out = client.download("m", 1, tmp_path / "back.onnx")
    assert out.read_bytes() == data

    # the same bytes again (another model, another name) reuse the object
    client.create_model("n")
    v2 = client.log_version("n", artifact=make_file(data, "copy.bin"), capture_git=False)
    assert v2.artifact.sha256 == digest
    assert keys(s3_server, bucket) == [expected_key]
    assert client.download("n", 1, tmp_path / "copy.bin").read_bytes() == data

    # different bytes, a different object
    v3 = client.log_version("m", artifact=make_file(b"other", "m.bin"), capture_git=False)
    other = hashlib.sha256(b"other").hexdigest()
    assert v3.artifact.sha256 == other
    other_key = f"registry/prod/sha256/{other[:2]}/{other[2:4]}/{other}"
    assert keys(s3_server, bucket) == sorted([expected_key, other_key])


def test_folder_artifacts_and_verification_on_s3(
    s3_ctx: Context, s3_server: str, bucket: str, tmp_path: Path
) -> None:
    client = Steward(LocalBackend(s3_ctx, "alice"))
    folder = tmp_path / "saved"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "w.bin").write_bytes(b"\x00" * 1000)
    (folder / "config.json").write_text("{}")
    client.create_model("m")
    version = client.log_version("m", artifact=folder, capture_git=False)
    restored = client.download("m", 1, tmp_path / "restored")
    assert (restored / "sub" / "w.bin").read_bytes() == b"\x00" * 1000
    assert (restored / "config.json").read_text() == "{}"

    # tamper with the object behind Steward's back: the download refuses it
    key = keys(s3_server, bucket)[0]
    assert key.endswith(version.artifact.sha256)
    s3_client(s3_server).put_object(Bucket=bucket, Key=key, Body=b"tampered")
    with pytest.raises(IntegrityError, match="is corrupted"):
        client.download("m", 1, tmp_path / "again")
    assert not (tmp_path / "again").exists()
