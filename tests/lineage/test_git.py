"""Code lineage: the git commit, branch, path and dirty flag a version was trained from."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from steward.domain.entities import CodeRef
from steward.lineage import git
from steward.sdk.client import Steward


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Never let git discover a repository above the temporary folder.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "project"
    (root / "train").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    (root / "train" / "fit.py").write_text("print('fit')\n")
    (root / "README.md").write_text("hello\n")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_capture_in_a_clean_repository(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    assert len(head) == 40
    assert git.capture(repo) == CodeRef(
        repo_url=None, commit=head, branch="main", path=".", dirty=False
    )
    sub = git.capture(repo / "train")
    assert sub is not None
    assert (sub.commit, sub.path, sub.dirty) == (head, "train", False)


def test_dirty_flag_follows_tracked_files_only(repo: Path) -> None:
    (repo / "scratch.txt").write_text("untracked\n")
    found = git.capture(repo)
    assert found is not None and found.dirty is False
    (repo / "train" / "fit.py").write_text("print('changed')\n")
    found = git.capture(repo)
    assert found is not None and found.dirty is True
    _git(repo, "commit", "-q", "-am", "second")
    after = git.capture(repo)
    assert after is not None
    assert after.dirty is False
    assert after.commit == _git(repo, "rev-parse", "HEAD") != found.commit


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        (
            "https://alice:s3cr3t@git.example.com/org/repo.git",
            "https://git.example.com/org/repo.git",
        ),
        ("https://ghp_tokenvalue@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    ],
)
def test_credentials_are_stripped_from_the_remote_url(
    repo: Path, remote: str, expected: str
) -> None:
    _git(repo, "remote", "add", "origin", remote)
    found = git.capture(repo)
    assert found is not None
    assert found.repo_url == expected
    assert "s3cr3t" not in repr(found) and "ghp_" not in repr(found)


def test_detached_head_has_no_branch(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "--detach")
    found = git.capture(repo)
    assert found is not None
    assert (found.commit, found.branch) == (head, None)


def test_repository_without_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    _git(tmp_path, "init", "-q", "-b", "main")
    found = git.capture(tmp_path)
    assert found is not None
    assert found.commit is None
    assert found.dirty is False


def test_outside_a_repository_there_is_no_code_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git.capture(outside) is None
    monkeypatch.chdir(outside)
    assert git.capture() is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_logged_version_records_the_commit(repo: Path, local: Steward, tmp_path: Path) -> None:
    _git(repo, "remote", "add", "origin", "https://bot:tok@git.example.com/org/repo.git")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"m")
    local.create_model("m")
    version = local.log_version("m", artifact=artifact, code_path=repo / "train")
    assert version.code == CodeRef(
        repo_url="https://git.example.com/org/repo.git",
        commit=_git(repo, "rev-parse", "HEAD"),
        branch="main",
        path="train",
        dirty=False,
    )
    off = local.log_version("m", artifact=artifact, code_path=repo, capture_git=False)
    assert off.code is None
