"""A first end-to-end pass through the SDK on both databases, embedded and remote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from steward.sdk.client import Steward


def test_register_version_promote_and_verify(
    client: Steward, make_file: Callable[[bytes, str], Path], tmp_path: Path
) -> None:
    client.create_model("credit-scoring", purpose="Approve consumer loans")
    v1 = client.log_version(
        "credit-scoring",
        artifact=make_file(b"one", "m.bin"),
        tags={"team": "risk"},
        capture_git=False,
    )
    assert v1.version == 1
    for stage in ("validation", "approved", "production"):
        client.transition("credit-scoring", 1, to=stage, justification="ok")
    out = client.download("credit-scoring", 1, tmp_path / "out.bin")
    assert out.read_bytes() == b"one"
    assert client.verify_audit().ok
