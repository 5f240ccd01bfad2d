"""Packaging: what a user hands the SDK (object, file, folder) becomes one stored file."""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from steward.artifacts import packaging
from steward.domain.entities import Flavor
from steward.domain.errors import ArtifactError, ArtifactTooLarge
from steward.sdk.client import Steward

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MakeFile = Callable[[bytes, str], Path]


@pytest.fixture
def training() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    x = rng.rand(80, 3)
    y = (x[:, 0] + 0.3 * x[:, 1] > 0.6).astype(int)
    return x, y


def _tree(root: Path) -> dict[str, bytes | None]:
    """Relative path -> bytes (None for folders)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def _onnx_bytes() -> bytes:
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


# -- scikit-learn via skops -----------------------------------------------------------------


@SQLITE_ONLY
def test_sklearn_objects_are_stored_with_skops_and_load_back_identical(
    local: Steward, training: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = training
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    local.create_model("clf")
    version = local.log_version("clf", model, capture_git=False)
    assert version.artifact.flavor is Flavor.SKLEARN
    assert version.artifact.filename == "model.skops"

    loaded = local.load_model("clf", 1)
    assert type(loaded) is type(model)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert np.array_equal(loaded.predict_proba(x), model.predict_proba(x))
    assert np.array_equal(loaded[-1].coef_, model[-1].coef_)
    # by alias too
    local.set_alias("clf", "champion", 1)
    assert np.array_equal(local.load_model("clf", "champion").predict(x), model.predict(x))


def test_skops_file_is_not_a_pickle(training: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = training
    prepared = packaging.prepare(LogisticRegression().fit(x, y))
    try:
        assert prepared.flavor is Flavor.SKLEARN
        assert prepared.temporary
        data = prepared.path.read_bytes()
        assert data[:2] == b"PK"  # skops is a zip archive, not pickle bytes
        assert hashlib.sha256(data).hexdigest() == prepared.sha256
        assert prepared.size == len(data)
    finally:
        prepared.cleanup()
    assert not prepared.path.exists()


@SQLITE_ONLY
def test_trees_need_explicitly_trusted_types(
    local: Steward, training: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = training
    model = DecisionTreeClassifier(random_state=0, max_depth=3).fit(x, y)
    local.create_model("tree")
    local.log_version("tree", model, capture_git=False)

    with pytest.raises(ArtifactError) as refused:
        local.load_model("tree", 1)
    assert refused.value.detail == (
        "This artifact contains types skops does not trust by default: "
        "sklearn.tree._tree.Tree. Review them and pass trusted=[...] to load it."
    )
    with pytest.raises(ArtifactError, match=re.escape("sklearn.tree._tree.Tree")):
        local.load_model("tree", 1, trusted=["sklearn.linear_model.LogisticRegression"])

    loaded = local.load_model("tree", 1, trusted=["sklearn.tree._tree.Tree"])
    assert np.array_equal(loaded.predict_proba(x), model.predict_proba(x))
    assert loaded.get_depth() == model.get_depth()


@SQLITE_ONLY
def test_load_model_refuses_other_flavors(local: Steward, make_file: MakeFile) -> None:
    local.create_model("m")
    local.log_version("m", artifact=make_file(_onnx_bytes(), "model.onnx"), capture_git=False)
    with pytest.raises(ArtifactError, match="Version 1 of 'm' is a onnx artifact; use download"):
        local.load_model("m", 1)


# -- folders ------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "saved_model"
    (root / "variables" / "empty").mkdir(parents=True)
    (root / "saved_model.pb").write_bytes(b"\x08\x01graph")
    (root / "variables" / "variables.index").write_bytes(b"index")
    (root / "variables" / "variables.data-00000-of-00001").write_bytes(os.urandom(3000))
    (root / "assets.txt").write_text("vocab\n")
    return root


def test_a_folder_always_packs_to_the_same_digest(folder: Path) -> None:
    first = packaging.prepare(folder)
    os.utime(folder / "assets.txt", (1_000_000, 1_000_000))  # mtimes are not content
    second = packaging.prepare(folder)
    try:
        assert first.sha256 == second.sha256
        assert first.path.read_bytes() == second.path.read_bytes()
        assert (first.flavor, first.filename, first.is_directory) == (
            Flavor.DIRECTORY,
            "saved_model",
            True,
        )
        with tarfile.open(first.path) as tar:
            members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert {m.mtime for m in members} == {0}
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    finally:
        first.cleanup()
        second.cleanup()
    (folder / "assets.txt").write_text("vocab!\n")
    changed = packaging.prepare(folder)
    changed.cleanup()
    assert changed.sha256 != first.sha256


@SQLITE_ONLY
def test_a_folder_downloads_back_to_an_identical_tree(
    local: Steward, folder: Path, tmp_path: Path
) -> None:
    local.create_model("tf")
    version = local.log_version("tf", artifact=folder, capture_git=False)
    assert version.artifact.is_directory
    assert version.artifact.flavor is Flavor.DIRECTORY
    again = local.log_version("tf", artifact=folder, capture_git=False)
    assert again.artifact.sha256 == version.artifact.sha256

    out = local.download("tf", 1, tmp_path / "restored")
    assert out == tmp_path / "restored"
    assert _tree(out) == _tree(folder)
    assert "variables/empty" in _tree(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@SQLITE_ONLY
def test_symbolic_links_in_a_folder_are_stored_as_their_content(
    local: Steward, tmp_path: Path
) -> None:
    # The layout of a Hugging Face cache: snapshot files link into a shared blob folder.
    cache = tmp_path / "hub"
    (cache / "blobs").mkdir(parents=True)
    (cache / "blobs" / "aa11").write_bytes(b"safetensors weights")
    (cache / "blobs" / "bb22").write_text('{"hidden": 8}')
    (cache / "shared" / "tok").mkdir(parents=True)
    (cache / "shared" / "tok" / "vocab.txt").write_text("a\nb\n")
    snapshot = cache / "snapshots" / "rev1"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").symlink_to("../../blobs/aa11")
    (snapshot / "config.json").symlink_to(cache / "blobs" / "bb22")  # absolute
    (snapshot / "tokenizer").symlink_to(cache / "shared" / "tok")  # a linked folder
    (snapshot / "README.md").write_text("card")

    local.create_model("hf")
    local.log_version("hf", artifact=snapshot, capture_git=False)
    out = local.download("hf", 1, tmp_path / "restored")
    assert _tree(out) == {
        "README.md": b"card",
        "config.json": b'{"hidden": 8}',
        "model.safetensors": b"safetensors weights",
        "tokenizer": None,
        "tokenizer/vocab.txt": b"a\nb\n",
    }
    assert not any(p.is_symlink() for p in out.rglob("*"))


def test_folders_with_unpackable_entries_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "gone.bin").symlink_to(tmp_path / "missing.bin")
    with pytest.raises(ArtifactError, match=re.escape("has a broken symbolic link: 'gone.bin'")):
        packaging.prepare(broken)
    loop = tmp_path / "loop"
    (loop / "sub").mkdir(parents=True)
    (loop / "sub" / "up").symlink_to(loop)
    with pytest.raises(ArtifactError, match="has a symbolic link loop at 'sub/up'"):
        packaging.prepare(loop)
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "pipe")
    with pytest.raises(ArtifactError, match="holds 'pipe', which is not a regular file"):
        packaging.prepare(fifo)
    assert list(scratch.iterdir()) == []  # no half-written tar is left behind


def test_mlflow_folders_are_recognised(tmp_path: Path) -> None:
    root = tmp_path / "mlflow_model"
    root.mkdir()
    (root / "MLmodel").write_text("flavors: {}\n")
    prepared = packaging.prepare(root)
    prepared.cleanup()
    assert prepared.flavor is Flavor.MLFLOW


# -- files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "flavor"),
    [
        ("model.onnx", Flavor.ONNX),
        ("MODEL.ONNX", Flavor.ONNX),
        ("weights.pt", Flavor.PYTORCH),
        ("weights.pth", Flavor.PYTORCH),
        ("booster.ubj", Flavor.XGBOOST),
        ("booster.xgb", Flavor.XGBOOST),
        ("model.lgb", Flavor.LIGHTGBM),
        ("model.skops", Flavor.SKLEARN),
        ("model.joblib", Flavor.OTHER),
        ("README", Flavor.OTHER),
    ],
)
def test_file_flavor_follows_the_suffix(make_file: MakeFile, name: str, flavor: Flavor) -> None:
    path = make_file(b"\x00bytes\xff", name)
    prepared = packaging.prepare(path)
    assert prepared.flavor is flavor
    assert prepared.filename == path.name
    assert prepared.path == path
    assert not prepared.temporary
    prepared.cleanup()
    assert path.exists()  # the user's own file is never removed


@SQLITE_ONLY
def test_onnx_and_other_files_keep_their_bytes(
    local: Steward, make_file: MakeFile, tmp_path: Path
) -> None:
    onnx_bytes = _onnx_bytes()
    other = os.urandom(5000)
    local.create_model("m")
    v1 = local.log_version("m", artifact=make_file(onnx_bytes, "model.onnx"), capture_git=False)
    v2 = local.log_version("m", artifact=make_file(other, "model.joblib"), capture_git=False)
    assert (v1.artifact.flavor, v2.artifact.flavor) == (Flavor.ONNX, Flavor.OTHER)
    assert v1.artifact.sha256 == hashlib.sha256(onnx_bytes).hexdigest()
    assert v1.artifact.size == len(onnx_bytes)
    assert local.download("m", 1, tmp_path / "a.onnx").read_bytes() == onnx_bytes
    # into a folder: the stored file name is used
    outdir = tmp_path / "out"
    outdir.mkdir()
    path = local.download("m", 2, outdir)
    assert path.name.endswith("model.joblib")
    assert path.read_bytes() == other


def test_onnx_objects_and_bytes_are_serialised() -> None:
    import onnx

    proto = onnx.load_from_string(_onnx_bytes())
    prepared = packaging.prepare(proto)
    try:
        assert (prepared.flavor, prepared.filename) == (Flavor.ONNX, "model.onnx")
        assert prepared.path.read_bytes() == proto.SerializeToString()
    finally:
        prepared.cleanup()
    raw = packaging.prepare(b"raw bytes")
    try:
        assert (raw.flavor, raw.filename, raw.size) == (Flavor.OTHER, "artifact.bin", 9)
    finally:
        raw.cleanup()


def test_flavor_override_and_refusals(make_file: MakeFile, tmp_path: Path) -> None:
    path = make_file(b"x", "model.bin")
    assert packaging.prepare(path, flavor="pytorch").flavor is Flavor.PYTORCH
    with pytest.raises(ArtifactError, match="Unknown flavor 'tensorflow'; use one of: sklearn"):
        packaging.prepare(path, flavor="tensorflow")
    with pytest.raises(ArtifactError, match=re.escape("cannot serialise a builtins.dict object")):
        packaging.prepare({"weights": [1, 2]})
    missing = tmp_path / "nope.onnx"
    with pytest.raises(ArtifactError) as err:
        packaging.prepare(missing)
    assert err.value.detail == (
        f"Artifact path {str(missing)!r} does not exist or is not a file or folder."
    )
    with pytest.raises(ArtifactTooLarge, match="The artifact is 10 bytes; this store accepts at"):
        packaging.prepare(b"0123456789", max_bytes=9)
