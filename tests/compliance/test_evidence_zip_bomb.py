"""The zip bomb attack on evidence verification.

A ~1 MB zip whose ``manifest.json`` inflates to more than 1 GiB, posted to
``/api/v1/evidence/verify``, grew a worker by ~2 GiB and once killed it. Now: anonymous
callers get 401 before anything is read, and a signed-in caller's bomb is refused with 413
problem+json naming the limit, quickly and without inflating it. Offline verification (the
CLI on a local file) needs no account and is bounded the same way.
"""

from __future__ import annotations

import resource
import struct
import time
import zipfile
import zlib
from pathlib import Path

import httpx
import pytest
from tests.cli.helpers import run
from tests.conftest import LiveServer

from steward.compliance import evidence as pack
from steward.domain.errors import ArtifactTooLarge
from steward.services.context import Context

BOMB_INFLATED = 1024**3 + 16 * 1024**2  # a little over 1 GiB of zeros


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~1 MB zip whose manifest.json inflates to over 1 GiB of zeros.

    Deflating a GiB takes a while, so the stream is built from one 16 MiB segment compressed
    with a full flush (byte-aligned, no back-references) and repeated, then stored and the
    headers patched to say "deflated, this size, this CRC" — exactly what an attacker sends.
    """
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    segment = b"\0" * (16 * 1024**2)
    copies = BOMB_INFLATED // len(segment)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(segment) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = block * copies + b"\x03\x00"  # an empty final block ends the deflate stream
    crc = 0
    for _ in range(copies):
        crc = zlib.crc32(segment, crc)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo(pack.MANIFEST), stream)  # stored as is ...
        z.writestr(pack.SIGNATURE, b"sig")
    data = bytearray(path.read_bytes())
    facts = struct.pack("<H", zipfile.ZIP_DEFLATED)
    sizes = struct.pack("<I", crc), struct.pack("<I", copies * len(segment))
    for signature, method, crc_at, size_at in (
        (b"PK\x03\x04", 8, 14, 22),
        (b"PK\x01\x02", 10, 16, 24),
    ):
        at = data.index(signature)  # ... and declared deflated, in both headers
        data[at + method : at + method + 2] = facts
        data[at + crc_at : at + crc_at + 4] = sizes[0]
        data[at + size_at : at + size_at + 4] = sizes[1]
    path.write_bytes(bytes(data))
    assert path.stat().st_size < 2 * 1024**2
    with zipfile.ZipFile(path) as z:
        assert z.getinfo(pack.MANIFEST).file_size > 1024**3
    return path


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def test_offline_verification_refuses_a_bomb_quickly(bomb: Path) -> None:
    before = _peak_rss_bytes()
    started = time.monotonic()
    with pytest.raises(ArtifactTooLarge, match=r"manifest\.json would inflate beyond 16 MiB"):
        pack.verify_pack(bomb)
    assert time.monotonic() - started < 2
    assert _peak_rss_bytes() - before < 200 * 1024**2  # never the inflated GiB


def test_too_many_members_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack, "MAX_MEMBERS", 5)
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(6):
            z.writestr(f"f{i}", b"x")
    with pytest.raises(ArtifactTooLarge, match="has 6 members; an evidence pack may have at"):
        pack.verify_pack(path)


def test_the_cli_offline_check_is_bounded_too(bomb: Path, tmp_path: Path) -> None:
    result = run(tmp_path, "evidence", "verify", str(bomb))
    assert result.exit_code == 1
    assert "16 MiB" in result.output


def test_server_verification_needs_a_role_and_refuses_a_bomb(
    ctx: Context, bomb: Path, token: str
) -> None:
    anonymous = ctx.settings.with_(allow_anonymous_read=True)
    with (
        LiveServer(ctx.__class__(anonymous, ctx.uow, ctx.artifacts)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        with bomb.open("rb") as fh:
            response = http.post("/api/v1/evidence/verify", files={"pack": ("b.zip", fh)})
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "steward evidence verify" in response.json()["detail"]

        started = time.monotonic()
        with bomb.open("rb") as fh:
            response = http.post(
                "/api/v1/evidence/verify",
                files={"pack": ("b.zip", fh)},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert time.monotonic() - started < 3
        assert response.status_code == 413, response.text
        body = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert body["maximum"] == pack.MAX_MEMBER_BYTES[pack.MANIFEST]
        assert body["member"] == pack.MANIFEST
        assert "16 MiB" in body["detail"]
