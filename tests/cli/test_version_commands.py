"""`steward version create|list|show|download|alias|transition`."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An embedded store with one model, 'credit'."""
    where = tmp_path / "store"
    ok(where, "model", "create", "credit")
    return where


def artifact(tmp_path: Path, data: bytes, name: str = "model.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_create_with_params_metrics_tags_and_data(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("age,income,approved\n30,1000.5,1\n45,,0\n51,2200.0,1\n")
    created = as_json(
        home,
        "version",
        "create",
        "credit",
        str(artifact(tmp_path, b"weights", "model.onnx")),
        "--param",
        "C=0.5",
        "--param",
        'features=["age", "income"]',
        "--param",
        "solver=lbfgs",
        "--param",
        "note=a=b",
        "--metric",
        "auc=0.81",
        "--metric",
        "n=3",
        "--tag",
        "team=risk",
        "--tag",
        "ticket=",
        "--description",
        "First cut",
        "--training-data",
        str(data),
        "--target",
        "approved",
        "--no-git",
    )
    assert created["version"] == 1
    assert created["params"] == {
        "C": 0.5,
        "features": ["age", "income"],
        "solver": "lbfgs",
        "note": "a=b",
    }
    assert created["metrics"] == {"auc": 0.81, "n": 3.0}
    assert created["tags"] == {"team": "risk", "ticket": ""}
    assert created["description"] == "First cut"
    assert created["artifact"]["flavor"] == "onnx"
    assert created["artifact"]["filename"] == "model.onnx"
    assert created["artifact"]["sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert created["training_data"]["rows"] == 3
    assert created["training_data"]["uri"] == data.resolve().as_uri()
    assert created["signature"]["inputs"] == [
        {"name": "age", "type": "integer"},
        {"name": "income", "type": "float"},
    ]
    assert created["signature"]["outputs"] == [{"name": "approved", "type": "integer"}]
    assert created["code"] is None

    shown = flat(ok(home, "version", "show", "credit", "1").stdout)
    assert "credit version 1" in shown
    assert "artifact model.onnx (onnx, 7 bytes)" in shown
    assert f"sha256 {hashlib.sha256(b'weights').hexdigest()}" in shown
    assert "metrics auc=0.81, n=3" in shown
    assert "training data 3 rows x 3 cols" in shown
    assert "inputs age:integer, income:float" in shown


def test_create_records_the_git_commit_of_the_working_folder(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], cwd=repo, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    monkeypatch.chdir(repo)
    created = as_json(home, "version", "create", "credit", str(artifact(tmp_path, b"w")))
    assert created["code"]["commit"] == commit
    assert created["code"]["branch"] == "main"
    assert created["code"]["dirty"] is False


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--param", "learning_rate", "Parameter 'learning_rate' must look like key=value."),
        ("--param", "=0.1", "Parameter '=0.1' must look like key=value."),
        ("--tag", "team", "Tag 'team' must look like key=value."),
        ("--metric", "auc=high", "Metric 'auc' must be a number, got 'high'."),
        ("--metric", "auc", "Metric 'auc' must look like key=value."),
    ],
)
def test_bad_key_value_syntax_is_refused_before_anything_is_stored(
    home: Path, tmp_path: Path, option: str, value: str, message: str
) -> None:
    result = run(
        home,
        "version",
        "create",
        "credit",
        str(artifact(tmp_path, b"w")),
        option,
        value,
        "--no-git",
    )
    assert result.exit_code == 2
    assert message in flat(result.stderr)
    assert as_json(home, "version", "list", "credit")["items"] == []


def test_unreadable_artifact_paths_are_refused(home: Path, tmp_path: Path) -> None:
    missing = run(home, "version", "create", "credit", str(tmp_path / "nope.bin"), "--no-git")
    assert missing.exit_code == 1
    assert (
        f"Artifact path '{tmp_path / 'nope.bin'}' does not exist or is not a file or folder."
        in (flat(missing.stderr))
    )
    dangling = tmp_path / "dangling.bin"
    dangling.symlink_to(tmp_path / "gone.bin")
    broken = run(home, "version", "create", "credit", str(dangling), "--no-git")
    assert broken.exit_code == 1
    assert "does not exist or is not a file or folder" in broken.stderr
    bad_data = run(
        home,
        "version",
        "create",
        "credit",
        str(artifact(tmp_path, b"w")),
        "--training-data",
        str(tmp_path / "absent.csv"),
        "--no-git",
    )
    assert bad_data.exit_code == 1
    assert "Dataset file" in bad_data.stderr and "does not exist" in bad_data.stderr
    unknown = run(home, "version", "create", "nope", str(artifact(tmp_path, b"w")), "--no-git")
    assert unknown.exit_code == 1
    assert "Model 'nope' does not exist" in unknown.stderr
    assert as_json(home, "version", "list")["items"] == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_artifact_without_read_permission_is_refused(home: Path, tmp_path: Path) -> None:
    locked = artifact(tmp_path, b"secret", "locked.bin")
    locked.chmod(0)
    result = run(home, "version", "create", "credit", str(locked), "--no-git")
    assert result.exit_code == 1
    assert f"Cannot read artifact '{locked}': Permission denied." in flat(result.stderr)


def test_list_table_json_filters_and_pages(home: Path, tmp_path: Path) -> None:
    ok(home, "model", "create", "churn")
    for n in (1, 2, 3):
        ok(
            home,
            "version",
            "create",
            "credit",
            str(artifact(tmp_path, f"c{n}".encode())),
            "--metric",
            f"auc=0.{n}",
            "--tag",
            f"run={n}",
            "--no-git",
        )
    ok(home, "version", "create", "churn", str(artifact(tmp_path, b"x")), "--no-git")
    ok(home, "version", "transition", "credit", "2", "--to", "validation", "-m", "check")

    table = flat(ok(home, "version", "list", "credit").stdout)
    assert "model version stage flavor aliases metrics created by" in table
    assert "credit 2 validation other auc=0.2" in table
    assert table.index("credit 3") < table.index("credit 2") < table.index("credit 1")

    def found(*args: str) -> list[tuple[str, int]]:
        page = as_json(home, "version", "list", *args)
        return [(v["model"], v["version"]) for v in page["items"]]

    assert found("credit") == [("credit", 3), ("credit", 2), ("credit", 1)]
    assert found() == [("churn", 1), ("credit", 3), ("credit", 2), ("credit", 1)]
    assert found("--stage", "validation") == [("credit", 2)]
    assert found("credit", "--tag", "run=1") == [("credit", 1)]
    assert found("--tag", "run") == [("credit", 3), ("credit", 2), ("credit", 1)]
    first = as_json(home, "version", "list", "credit", "--limit", "2")
    assert [v["version"] for v in first["items"]] == [3, 2]
    assert found("credit", "--limit", "2", "--cursor", first["next_cursor"]) == [("credit", 1)]
    assert f"More: --cursor {first['next_cursor']}" in flat(
        ok(home, "version", "list", "credit", "--limit", "2").stdout
    )
    bad = run(home, "version", "list", "--tag", "bad key=x")
    assert bad.exit_code == 1
    assert "Invalid tag 'bad key'" in bad.stderr


def test_download_writes_the_exact_bytes(home: Path, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4097  # > 1 MiB
    ok(home, "version", "create", "credit", str(artifact(tmp_path, data, "big.bin")), "--no-git")
    out = tmp_path / "out.bin"
    result = ok(home, "version", "download", "credit", "1", "-o", str(out))
    assert out.read_bytes() == data
    assert f"Wrote {out}" in flat(result.stdout)
    into = tmp_path / "folder"
    into.mkdir()
    ok(home, "version", "download", "credit", "1", "--output", str(into))
    assert (into / "big.bin").read_bytes() == data
    # A folder artifact comes back as the folder.
    src = tmp_path / "bundle"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "w.bin").write_bytes(b"\x00\x01")
    (src / "MLmodel").write_text("flavors: {}\n")
    made = as_json(home, "version", "create", "credit", str(src), "--no-git")
    assert (made["artifact"]["flavor"], made["artifact"]["is_directory"]) == ("mlflow", True)
    ok(home, "version", "download", "credit", "2", "-o", str(tmp_path / "bundle-out"))
    assert (tmp_path / "bundle-out" / "sub" / "w.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "bundle-out" / "MLmodel").read_text() == "flavors: {}\n"
    missing = run(home, "version", "download", "credit", "7", "-o", str(tmp_path / "x"))
    assert missing.exit_code == 1
    assert "Model 'credit' has no version 7" in missing.stderr
    assert not (tmp_path / "x").exists()


def test_download_defaults_to_the_current_folder_for_files_and_folders(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "bundle"
    src.mkdir()
    (src / "w.bin").write_bytes(b"folder bytes")
    ok(home, "version", "create", "credit", str(artifact(tmp_path, b"file bytes")), "--no-git")
    ok(home, "version", "create", "credit", str(src), "--no-git")
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    ok(home, "version", "download", "credit", "1")
    ok(home, "version", "download", "credit", "2")
    assert (work / "model.bin").read_bytes() == b"file bytes"
    assert (work / "bundle" / "w.bin").read_bytes() == b"folder bytes"
    assert sorted(p.name for p in work.iterdir()) == ["bundle", "model.bin", "notes.txt"]


def test_alias_set_move_show_by_alias_and_delete(home: Path, tmp_path: Path) -> None:
    for n in (1, 2):
        ok(home, "version", "create", "credit", str(artifact(tmp_path, bytes([n]))), "--no-git")
    assert (
        "credit@champion -> version 1"
        in ok(home, "version", "alias", "credit", "champion", "1").stdout
    )
    assert as_json(home, "version", "alias", "credit", "champion", "2")["aliases"] == ["champion"]
    shown = as_json(home, "version", "show", "credit", "champion")
    assert shown["version"] == 2
    assert shown["transitions"] == []
    out = tmp_path / "champ.bin"
    ok(home, "version", "download", "credit", "champion", "-o", str(out))
    assert out.read_bytes() == b"\x02"
    assert (
        "Deleted alias champion of credit"
        in ok(home, "version", "alias", "credit", "champion", "--delete").stdout
    )
    gone = run(home, "version", "show", "credit", "champion")
    assert gone.exit_code == 1
    assert "Model 'credit' has no alias 'champion'." in gone.stderr
    no_version = run(home, "version", "alias", "credit", "champion")
    assert no_version.exit_code == 2
    assert "Give the version to point the alias at, or --delete." in flat(no_version.stderr)
    bad = run(home, "version", "alias", "credit", "Champion", "1")
    assert bad.exit_code == 1
    assert "Invalid alias 'Champion'" in bad.stderr
    actions = [e["action"] for e in as_json(home, "audit", "log", "--model", "credit")]
    assert actions.count("alias.set") == 2 and actions.count("alias.deleted") == 1


def test_transitions_promotion_displaces_and_illegal_moves_list_allowed(
    home: Path, tmp_path: Path
) -> None:
    for n in (1, 2):
        ok(home, "version", "create", "credit", str(artifact(tmp_path, bytes([n]))), "--no-git")
    moved = ok(home, "version", "transition", "credit", "1", "--to", "validation", "-m", "ready")
    assert "credit version 1: development -> validation" in moved.stdout
    for stage in ("approved", "production"):
        ok(home, "version", "transition", "credit", "1", "--to", stage, "-m", "ok")
    for stage in ("validation", "approved"):
        ok(home, "version", "transition", "credit", "2", "--to", stage, "-m", "ok")
    promoted = flat(
        ok(
            home,
            "version",
            "transition",
            "credit",
            "2",
            "--to",
            "production",
            "--justification",
            "better",
        ).stdout
    )
    assert "credit version 2: approved -> production" in promoted
    assert "version 1: production -> deprecated (replaced)" in promoted

    shown = flat(ok(home, "version", "show", "credit", "1").stdout)
    assert "stage deprecated" in shown
    assert "Lifecycle" in shown
    assert "production deprecated alice Replaced in production by version 2: better" in shown
    data = as_json(home, "version", "show", "credit", "1")
    assert [(t["from_stage"], t["to_stage"]) for t in data["transitions"]][-1] == (
        "production",
        "deprecated",
    )

    illegal = run(home, "version", "transition", "credit", "1", "--to", "production", "-m", "x")
    assert illegal.exit_code == 1
    assert (
        "Version 1 of 'credit' is in deprecated; it cannot move to production. "
        "Allowed next stages: retired." in flat(illegal.stderr)
    )
    unknown = run(home, "version", "transition", "credit", "2", "--to", "live", "-m", "x")
    assert unknown.exit_code == 1
    assert "Unknown stage 'live'; stages are: development, validation" in flat(unknown.stderr)
    missing = run(home, "version", "transition", "credit", "2", "--to", "deprecated")
    assert missing.exit_code == 2
    assert "--justification" in flat(missing.stderr)
    result = as_json(
        home, "version", "transition", "credit", "2", "--to", "under_review", "-m", "q"
    )
    assert result["transition"]["to_stage"] == "under_review"
    assert result["displaced"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_version_commands_against_a_server(
    tmp_path: Path, live_server: LiveServer, token: str
) -> None:
    remote = ["--url", live_server.url, "--token", token]
    nowhere = tmp_path / "unused"
    ok(nowhere, *remote, "model", "create", "credit")
    data = b"remote bytes" * 1000
    made = as_json(
        nowhere,
        *remote,
        "version",
        "create",
        "credit",
        str(artifact(tmp_path, data)),
        "--metric",
        "auc=0.7",
        "--no-git",
    )
    assert made["artifact"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert made["created_by"] == "alice"
    out = tmp_path / "down.bin"
    ok(nowhere, *remote, "version", "download", "credit", "1", "-o", str(out))
    assert out.read_bytes() == data
    illegal = run(
        nowhere, *remote, "version", "transition", "credit", "1", "--to", "approved", "-m", "x"
    )
    assert illegal.exit_code == 1
    assert "Allowed next stages: validation." in flat(illegal.stderr)
