"""Turn what a user hands the SDK (an object, a file, a folder) into one file to store.

* scikit-learn objects are serialised with skops (no pickle: loading needs an
  explicit list of trusted types, see docs/artifacts.md);
* ONNX ``ModelProto`` objects, XGBoost and LightGBM models in their native formats;
* a folder becomes a deterministic tar (sorted names, zeroed times and owners)
  so the same folder always has the same digest;
* any other file is stored as opaque bytes.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward import extras
from steward.artifacts.store import sha256_file
from steward.domain.entities import Flavor
from steward.domain.errors import ArtifactError, ArtifactTooLarge

_SUFFIX_FLAVORS = {
    ".onnx": Flavor.ONNX,
    ".skops": Flavor.SKLEARN,
    ".ubj": Flavor.XGBOOST,
    ".xgb": Flavor.XGBOOST,
    ".lgb": Flavor.LIGHTGBM,
    ".pt": Flavor.PYTORCH,
    ".pth": Flavor.PYTORCH,
}


@dataclass(frozen=True)
class PreparedArtifact:
    path: Path
    sha256: str
    size: int
    flavor: Flavor
    filename: str
    is_directory: bool
    temporary: bool

    def cleanup(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


def prepare(
    source: Any, *, flavor: str | None = None, max_bytes: int | None = None
) -> PreparedArtifact:
    """Return a single local file holding ``source``, hashed."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            prepared = _from_directory(path, flavor)
        elif path.is_file():
            prepared = _from_file(path, flavor)
        else:
            raise ArtifactError(
                f"Artifact path {str(path)!r} does not exist or is not a file or folder."
            )
    else:
        prepared = _from_object(source, flavor)
    if max_bytes is not None and prepared.size > max_bytes:
        prepared.cleanup()
        raise ArtifactTooLarge(
            f"The artifact is {prepared.size} bytes; this store accepts at most {max_bytes} "
            "(STEWARD_MAX_ARTIFACT_BYTES)."
        )
    return prepared


def _flavor(value: str | None, default: Flavor) -> Flavor:
    if value is None:
        return default
    try:
        return Flavor(value)
    except ValueError:
        known = ", ".join(f.value for f in Flavor)
        raise ArtifactError(f"Unknown flavor {value!r}; use one of: {known}.") from None


def _from_file(path: Path, flavor: str | None) -> PreparedArtifact:
    try:
        sha, size = sha256_file(path)
    except OSError as exc:
        raise ArtifactError(f"Cannot read artifact {str(path)!r}: {exc.strerror}.") from exc
    detected = _SUFFIX_FLAVORS.get(path.suffix.lower(), Flavor.OTHER)
    return PreparedArtifact(path, sha, size, _flavor(flavor, detected), path.name, False, False)


def _temp_file(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="steward-", suffix=suffix)
    os.close(fd)
    return Path(name)


def _folder_entries(root: Path) -> list[tuple[str, Path]]:
    """(archive name, real path) of everything under ``root``, in sorted depth-first order.

    Symbolic links are followed: the artifact holds their content, since a link to a file
    outside the folder (a Hugging Face snapshot links into its cache) would not exist where
    the artifact is downloaded, and a link cannot be extracted safely anyway.
    """
    entries: list[tuple[str, Path]] = []

    def visit(folder: Path, prefix: str, ancestors: frozenset[Path]) -> None:
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            rel = prefix + entry.name
            real = entry.resolve() if entry.is_symlink() else entry
            if real.is_dir():
                if real.resolve() in ancestors:
                    raise ArtifactError(
                        f"Artifact folder {str(root)!r} has a symbolic link loop at {rel!r}."
                    )
                entries.append((rel, real))
                visit(real, rel + "/", ancestors | {real.resolve()})
            elif real.is_file():
                entries.append((rel, real))
            elif entry.is_symlink() and not real.exists():
                raise ArtifactError(
                    f"Artifact folder {str(root)!r} has a broken symbolic link: {rel!r}."
                )
            else:
                raise ArtifactError(
                    f"Artifact folder {str(root)!r} holds {rel!r}, which is not a regular file "
                    "or folder; remove it first."
                )

    visit(root, "", frozenset({root.resolve()}))
    return entries


def _from_directory(path: Path, flavor: str | None) -> PreparedArtifact:
    target = _temp_file(".tar")
    try:
        entries = _folder_entries(path)
        with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
            for rel, real in entries:
                info = tar.gettarinfo(str(real), arcname=rel)
                info.mtime = 0
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.pax_headers = {}
                if info.isreg():
                    with real.open("rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)
    except ArtifactError:
        target.unlink(missing_ok=True)
        raise
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise ArtifactError(f"Cannot read artifact folder {str(path)!r}: {exc}.") from exc
    sha, size = sha256_file(target)
    detected = Flavor.MLFLOW if (path / "MLmodel").exists() else Flavor.DIRECTORY
    return PreparedArtifact(target, sha, size, _flavor(flavor, detected), path.name, True, True)


def _from_object(obj: Any, flavor: str | None) -> PreparedArtifact:
    if isinstance(obj, bytes | bytearray | memoryview):
        data, detected, name = bytes(obj), Flavor.OTHER, "artifact.bin"
    else:
        data, detected, name = _serialise(obj)
    target = _temp_file(Path(name).suffix)
    target.write_bytes(data)
    sha, size = sha256_file(target)
    return PreparedArtifact(target, sha, size, _flavor(flavor, detected), name, False, True)


def _serialise(obj: Any) -> tuple[bytes, Flavor, str]:
    module = type(obj).__module__.split(".")[0]
    # XGBoost's and LightGBM's scikit-learn wrappers are sklearn estimators too: their
    # native formats come first (portable, no pickle, loadable by any of their bindings).
    if module == "xgboost" and hasattr(obj, "save_model"):
        return _save_native(obj, ".ubj"), Flavor.XGBOOST, "model.ubj"
    if module == "lightgbm":
        booster = getattr(obj, "booster_", obj)
        return booster.model_to_string().encode(), Flavor.LIGHTGBM, "model.lgb"
    if module == "sklearn" or _looks_like_sklearn(obj):
        sio = extras.require("validation", "skops.io")

        return sio.dumps(obj), Flavor.SKLEARN, "model.skops"
    if module == "onnx" and hasattr(obj, "SerializeToString"):
        return obj.SerializeToString(), Flavor.ONNX, "model.onnx"
    raise ArtifactError(
        f"Steward cannot serialise a {type(obj).__module__}.{type(obj).__name__} object. "
        "Save it to a file (or folder) yourself and pass the path as the artifact."
    )


def _looks_like_sklearn(obj: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return False
    return isinstance(obj, BaseEstimator)


def _save_native(obj: Any, suffix: str) -> bytes:
    path = _temp_file(suffix)
    try:
        obj.save_model(str(path))
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def extract_directory(tar_path: Path, dest: Path) -> None:
    """Unpack a stored folder artifact, refusing members that escape ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_path) as tar:
        tar.extractall(dest, filter="data")
