"""Load a model artifact into something that predicts, and data into a pandas frame.

Models:

* **scikit-learn** (``.skops``): skops refuses any type it does not trust by default;
  such types must be listed in ``trusted`` by the caller after review;
* **ONNX** through onnxruntime (one tensor input fed with the feature matrix, or one
  input per column as skl2onnx writes for data frames);
* **XGBoost** / **LightGBM** in their native formats when those packages are installed;
* **MLflow** model folders: a scikit-learn flavor in skops format through Steward's skops
  loader (the caller's trusted types decide); any other flavor through ``mlflow.pyfunc``
  when MLflow is installed, only with ``trust=True`` (it unpickles or imports code);
* **pickle / joblib** only with ``trust=True``: unpickling runs arbitrary code chosen by
  whoever wrote the file, so it is refused by default with an explanation.
"""

from __future__ import annotations

import importlib.util
import os
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from steward import extras
from steward.domain.entities import Flavor
from steward.domain.errors import ArtifactError, InvalidInput

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")

Array = npt.NDArray[Any]

# Below this many rows a model predicts on one thread. Validation calls models thousands
# of times on small frames (permutation SHAP, robustness perturbations); OpenMP's thread
# start-up and spin-waiting then cost more than they save, and on a busy machine far more
# (measured: 30x slower for 200-row batches of a gradient-boosted model at load 14).
ONE_THREAD_BELOW = 50_000
_controller: Any = None
_controller_lock = threading.Lock()


@contextmanager
def _threads_for(rows: int) -> Iterator[None]:
    global _controller
    if rows >= ONE_THREAD_BELOW or not installed("threadpoolctl"):
        yield
        return
    with _controller_lock:
        if _controller is None:  # finding the native thread pools takes ~15 ms: once
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
    with _controller.limit(limits=1):
        yield


@dataclass
class LoadedModel:
    """A model that predicts on a pandas frame of its feature columns."""

    flavor: str
    predict_fn: Callable[[pd.DataFrame], Array]
    proba_fn: Callable[[pd.DataFrame], Array] | None = None
    classes: list[Any] | None = None
    feature_names: list[str] | None = None
    description: str = ""
    native: Any = None  # the underlying model object (estimator, booster), for explainers
    _cleanup: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def predict(self, frame: pd.DataFrame) -> Array:
        with _threads_for(len(frame)):
            return np.asarray(self.predict_fn(frame))

    def predict_proba(self, frame: pd.DataFrame) -> Array | None:
        if self.proba_fn is None:
            return None
        with _threads_for(len(frame)):
            return np.asarray(self.proba_fn(frame), dtype=np.float64)

    def close(self) -> None:
        for step in self._cleanup:
            step()
        self._cleanup.clear()


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def load_model(
    path: Path,
    flavor: str,
    *,
    trusted: list[str] | tuple[str, ...] = (),
    trust: bool = False,
) -> LoadedModel:
    """Load the artifact at ``path`` stored with ``flavor`` (a :class:`Flavor` value)."""
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES or (flavor == Flavor.OTHER.value and _looks_pickled(path)):
        return _pickle(path, trust)
    if flavor == Flavor.SKLEARN.value or suffix == ".skops":
        return _skops(path, trusted)
    if flavor == Flavor.ONNX.value or suffix == ".onnx":
        return _onnx(path)
    if flavor == Flavor.XGBOOST.value:
        return _xgboost(path)
    if flavor == Flavor.LIGHTGBM.value:
        return _lightgbm(path)
    if flavor in (Flavor.MLFLOW.value, Flavor.DIRECTORY.value):
        return _mlflow(path, trusted, trust)
    raise ArtifactError(
        f"Steward cannot load a {flavor!r} artifact ({path.name}) to run checks. Supported: "
        "sklearn (skops), onnx, xgboost, lightgbm, mlflow pyfunc, and pickle/joblib with "
        "trust. Or run the model yourself and use predictions mode (y_true/y_pred columns)."
    )


def _looks_pickled(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _from_estimator(estimator: Any, flavor: str, description: str) -> LoadedModel:
    if not hasattr(estimator, "predict"):
        raise ArtifactError(
            f"The {type(estimator).__name__} object in this artifact has no predict(); "
            "store a fitted estimator or pipeline."
        )
    from steward.validation.columnwise import Columnwise

    # A pipeline whose preprocessing works column by column predicts through a per-value
    # cache of that preprocessing: the same numbers, without re-encoding every call.
    fast = Columnwise.of(estimator)
    predict = estimator.predict if fast is None else fast.predict
    proba = estimator.predict_proba if hasattr(estimator, "predict_proba") else None
    if proba is not None and fast is not None:
        proba = fast.predict_proba
    classes = getattr(estimator, "classes_", None)
    names = getattr(estimator, "feature_names_in_", None)
    return LoadedModel(
        flavor=flavor,
        predict_fn=predict,
        proba_fn=proba,
        classes=None if classes is None else list(classes),
        feature_names=None if names is None else [str(n) for n in names],
        description=description or type(estimator).__name__,
        native=estimator,
    )


def _skops(path: Path, trusted: list[str] | tuple[str, ...]) -> LoadedModel:
    sio = extras.require("validation", "skops.io")

    data = path.read_bytes()
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ArtifactError(f"{path.name} is not a readable skops file: {exc}.") from exc
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise ArtifactError(
            "This artifact contains types skops does not trust by default: "
            f"{', '.join(refused)}. Loading them can run their code; review them and pass "
            "them as trusted types (SDK trusted=[...], CLI --trust-type) to validate it."
        )
    estimator = sio.loads(data, trusted=untrusted)
    return _from_estimator(estimator, Flavor.SKLEARN.value, type(estimator).__name__)


def _pickle(path: Path, trust: bool) -> LoadedModel:
    if not trust:
        raise ArtifactError(
            f"{path.name} is a pickle/joblib file. Unpickling runs whatever code its author "
            "put in it, so Steward refuses it by default. Prefer skops or ONNX; if you wrote "
            "or verified this file yourself, opt in with trust=True (CLI --trust-pickle)."
        )
    import joblib  # type: ignore[import-untyped,unused-ignore]

    estimator = joblib.load(path)
    return _from_estimator(estimator, "pickle", type(estimator).__name__)


def _onnx(path: Path) -> LoadedModel:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ArtifactError(
            "Validating an ONNX model needs onnxruntime: pip install 'steward[onnx]'."
        ) from None
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ArtifactError(f"onnxruntime cannot load {path.name}: {exc}.") from exc
    inputs = session.get_inputs()
    outputs = session.get_outputs()

    def feed(frame: pd.DataFrame) -> dict[str, Array]:
        if len(inputs) == 1:
            kind = inputs[0].type
            dtype = np.float64 if "double" in kind else np.float32
            return {inputs[0].name: frame.to_numpy(dtype=dtype)}
        missing = [i.name for i in inputs if i.name not in frame.columns]
        if missing:
            raise InvalidInput(
                f"The ONNX model expects input column(s) {', '.join(missing)} that the data "
                "does not have.",
                field="data",
            )
        fed: dict[str, Array] = {}
        for spec in inputs:
            column = frame[spec.name].to_numpy()
            if "string" in spec.type:
                column = column.astype(str).astype(object)
            elif "int64" in spec.type:
                column = column.astype(np.int64)
            elif "double" in spec.type:
                column = column.astype(np.float64)
            else:
                column = column.astype(np.float32)
            fed[spec.name] = column.reshape(-1, 1)
        return fed

    def run(frame: pd.DataFrame) -> list[Any]:
        return list(session.run(None, feed(frame)))

    def predict(frame: pd.DataFrame) -> Array:
        return np.asarray(run(frame)[0]).reshape(-1)

    proba: Callable[[pd.DataFrame], Array] | None = None
    if len(outputs) > 1:

        def proba(frame: pd.DataFrame) -> Array:
            raw = run(frame)[1]
            if isinstance(raw, list) and raw and isinstance(raw[0], dict):  # ZipMap output
                keys = sorted(raw[0])
                return np.array([[row[k] for k in keys] for row in raw], dtype=np.float64)
            return np.asarray(raw, dtype=np.float64)

    names = [i.name for i in inputs] if len(inputs) > 1 else None
    return LoadedModel(
        flavor=Flavor.ONNX.value,
        predict_fn=predict,
        proba_fn=proba,
        feature_names=names,
        description=f"ONNX graph with {len(inputs)} input(s)",
    )


def _xgboost(path: Path) -> LoadedModel:
    if not installed("xgboost"):
        raise ArtifactError("Validating an XGBoost model needs xgboost: pip install xgboost.")
    import xgboost  # type: ignore[import-not-found,unused-ignore]

    booster = xgboost.Booster()
    booster.load_model(str(path))

    def raw(frame: pd.DataFrame) -> Array:
        return np.asarray(booster.predict(xgboost.DMatrix(frame, enable_categorical=True)))

    objective = str(booster.attr("objective") or booster.save_config())
    if "binary:" in objective:
        return LoadedModel(
            flavor=Flavor.XGBOOST.value,
            predict_fn=lambda f: (raw(f) >= 0.5).astype(np.int64),
            proba_fn=lambda f: np.column_stack([1 - raw(f), raw(f)]),
            classes=[0, 1],
            feature_names=None if booster.feature_names is None else list(booster.feature_names),
            description="XGBoost booster (binary)",
            native=booster,
        )
    return LoadedModel(
        flavor=Flavor.XGBOOST.value,
        predict_fn=raw,
        feature_names=None if booster.feature_names is None else list(booster.feature_names),
        description="XGBoost booster",
        native=booster,
    )


def _lightgbm(path: Path) -> LoadedModel:
    if not installed("lightgbm"):
        raise ArtifactError("Validating a LightGBM model needs lightgbm: pip install lightgbm.")
    import lightgbm  # type: ignore[import-not-found,unused-ignore]

    booster = lightgbm.Booster(model_file=str(path))
    objective = str(booster.params.get("objective", ""))

    def raw(frame: pd.DataFrame) -> Array:
        return np.asarray(booster.predict(frame))

    if objective.startswith(("binary", "cross_entropy")):
        return LoadedModel(
            flavor=Flavor.LIGHTGBM.value,
            predict_fn=lambda f: (raw(f) >= 0.5).astype(np.int64),
            proba_fn=lambda f: np.column_stack([1 - raw(f), raw(f)]),
            classes=[0, 1],
            feature_names=list(booster.feature_name()),
            description="LightGBM booster (binary)",
            native=booster,
        )
    return LoadedModel(
        flavor=Flavor.LIGHTGBM.value,
        predict_fn=raw,
        feature_names=list(booster.feature_name()),
        description="LightGBM booster",
        native=booster,
    )


def _mlflow(path: Path, trusted: list[str] | tuple[str, ...], trust: bool) -> LoadedModel:
    """An MLflow model folder (stored as a folder artifact: a tar, or a directory).

    A scikit-learn flavor saved in skops format (MLflow 3's default) is read by Steward's own
    skops loader, so the types the caller trusts decide — not the ``skops_trusted_types`` the
    folder declares about itself. Any other flavor is loaded through ``mlflow.pyfunc``, which
    unpickles or imports code from the folder: like a pickle file it needs ``trust=True``.
    """
    import yaml

    tmp = tempfile.TemporaryDirectory(prefix="steward-mlflow-")
    try:
        folder = path
        if not path.is_dir():
            folder = Path(tmp.name)
            with tarfile.open(path) as tar:
                tar.extractall(folder, filter="data")
        if not (folder / "MLmodel").is_file():
            raise ArtifactError(
                "This folder artifact has no MLmodel file, so it is not an MLflow model; "
                "log the folder MLflow wrote (mlflow.<flavor>.save_model or the run's model "
                "artifact folder)."
            )
        try:
            spec = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"The MLmodel file is not valid YAML: {exc}.") from exc
        flavors = spec.get("flavors") if isinstance(spec, dict) else None
        if not isinstance(flavors, dict) or not flavors:
            raise ArtifactError("The MLmodel file lists no flavors; it is not a usable model.")
        sk = flavors.get("sklearn")
        if isinstance(sk, dict) and sk.get("serialization_format") == "skops":
            name = str(sk.get("pickled_model") or "model.skops")
            file = (folder / name).resolve()
            if folder.resolve() not in file.parents or not file.is_file():
                raise ArtifactError(f"The MLmodel file names {name!r}, which is not in the folder.")
            loaded = _skops(file, trusted)  # reads the bytes: the folder is no longer needed
            tmp.cleanup()
            loaded.flavor = Flavor.MLFLOW.value
            loaded.description = f"MLflow sklearn model (skops): {loaded.description}"
            return loaded
        if not trust:
            formats = sorted(
                f"{k} ({v.get('serialization_format', 'pickle')})" if k == "sklearn" else k
                for k, v in flavors.items()
                if isinstance(v, dict)
            )
            raise ArtifactError(
                f"This MLflow model (flavors: {', '.join(formats)}) is loaded through "
                "mlflow.pyfunc, which unpickles or imports code from the folder, so Steward "
                "refuses it by default. Save scikit-learn models with "
                "serialization_format='skops' (MLflow's default) to validate them safely; if you "
                "wrote or verified this folder yourself, opt in with trust=True (CLI "
                "--trust-pickle)."
            )
        if not installed("mlflow"):
            raise ArtifactError(
                "Validating this MLflow model needs MLflow: pip install 'steward[mlflow]' (or "
                "use predictions mode)."
            )
        model = _load_pyfunc(folder)
    except BaseException:
        tmp.cleanup()
        raise
    raw = None
    unwrap = getattr(model, "get_raw_model", None)
    if callable(unwrap):
        try:
            raw = unwrap()
        except Exception:  # flavors without a raw model raise their own errors
            raw = None
    if raw is not None and hasattr(raw, "predict"):
        loaded = _from_estimator(raw, Flavor.MLFLOW.value, f"MLflow pyfunc: {type(raw).__name__}")
        loaded._cleanup.append(tmp.cleanup)
        return loaded
    return LoadedModel(
        flavor=Flavor.MLFLOW.value,
        predict_fn=lambda f: np.asarray(model.predict(f)).reshape(-1),
        description="MLflow pyfunc",
        _cleanup=[tmp.cleanup],
    )


_MLFLOW_ENV = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
_MLFLOW_LOCK = threading.Lock()


def _load_pyfunc(folder: Path) -> Any:
    """mlflow.pyfunc.load_model with MLflow's own deserialization guard lifted for this call
    only (the caller passed trust=True)."""
    pyfunc = extras.require("mlflow", "mlflow.pyfunc")

    with _MLFLOW_LOCK:
        before = os.environ.get(_MLFLOW_ENV)
        os.environ[_MLFLOW_ENV] = "true"
        try:
            return pyfunc.load_model(str(folder))
        except Exception as exc:
            raise ArtifactError(f"MLflow cannot load this model: {exc}") from exc
        finally:
            if before is None:
                os.environ.pop(_MLFLOW_ENV, None)
            else:
                os.environ[_MLFLOW_ENV] = before


def from_object(estimator: Any) -> LoadedModel:
    """Wrap an in-memory estimator (tests, notebooks) with the same contract."""
    return _from_estimator(estimator, "object", type(estimator).__name__)


# -- data -----------------------------------------------------------------------------


def load_data(data: Any, what: str = "data") -> pd.DataFrame:
    """pandas, Polars, Arrow, numpy, or a CSV/Parquet path → a pandas frame."""
    from steward.lineage.datasets import to_frame

    try:
        frame = to_frame(data)
    except InvalidInput as exc:
        raise InvalidInput(str(exc), field=what) from None
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"{what} did not load as a table.", field=what)
    frame.columns = [str(c) for c in frame.columns]
    return frame
