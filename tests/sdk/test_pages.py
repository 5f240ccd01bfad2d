"""A page of results iterates over its items, and the SDK can walk every page."""

from __future__ import annotations

from steward.sdk.client import Steward


def test_a_page_iterates_over_its_models(client: Steward) -> None:
    for name in ("alpha", "beta", "gamma"):
        client.create_model(name, purpose="p", owner="alice")
    page = client.list_models(limit=2)
    assert [m.name for m in page] == ["alpha", "beta"]
    assert len(page) == 2 and page[0].name == "alpha"
    assert page.next_cursor


def test_iter_models_follows_cursors(client: Steward) -> None:
    names = [f"m{i:03d}" for i in range(7)]
    for name in names:
        client.create_model(name, purpose="p", owner="alice")
    assert [m.name for m in client.iter_models(page_size=3)] == names
    assert [m.name for m in client.iter_models(page_size=3, owner="nobody")] == []


def test_iter_versions_follows_cursors(client: Steward, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client.create_model("pages", purpose="p", owner="alice")
    artifact = tmp_path / "model.bin"
    for i in range(5):
        artifact.write_bytes(f"weights {i}".encode())
        client.log_version("pages", artifact=artifact)
    # newest first, like list_versions
    assert [v.version for v in client.iter_versions("pages", page_size=2)] == [5, 4, 3, 2, 1]


def test_iter_findings_follows_cursors(client: Steward) -> None:
    client.create_model("risky", purpose="p", owner="alice")
    opened = [
        client.open_finding("risky", title=f"gap {i}", severity="low").id for i in range(5)
    ]
    page = client.findings("risky", limit=2)
    assert [f.id for f in page] == opened[:2] and page.next_cursor
    assert [f.id for f in client.iter_findings("risky", page_size=2)] == opened
    assert list(client.iter_findings("risky", severity_at_least="critical")) == []


def test_iter_waivers_follows_cursors(client: Steward, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client.create_model("excused", purpose="p", owner="alice")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    v = client.log_version("excused", artifact=artifact).version
    granted = [
        client.grant_waiver(
            "excused", v, requirement=f"checks.r{i}", reason="vendor", expires="2099-01-01"
        ).id
        for i in range(5)
    ]
    page = client.waivers("excused", limit=2)
    assert len(page) == 2 and page.next_cursor
    assert sorted(w.id for w in client.iter_waivers("excused", page_size=2)) == granted
    assert len({w.id for w in client.iter_waivers(page_size=2)}) == 5
