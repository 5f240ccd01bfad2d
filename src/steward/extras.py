"""Optional parts of Steward (pip extras) and the one message for a missing one.

The core install is what a remote SDK/CLI user needs; the server, validation, monitoring,
signing, PDF and connector libraries come with extras (pyproject.toml). Code that needs
one imports it through :func:`require`, so a missing library becomes a :class:`MissingExtra`
that names the extra to install (the CLI prints it and exits 1, the API answers 501), never
a bare ``ModuleNotFoundError`` traceback. :func:`from_import_error` translates the imports
that happen at module level (``import numpy`` at the top of a validation module).
"""

from __future__ import annotations

import importlib
import importlib.util
import traceback
from types import ModuleType

from steward.domain.errors import MissingExtra

# What each extra is for, in the words of the message.
PURPOSE: dict[str, str] = {
    "server": "the embedded store, the API server and the web UI",
    "validation": "validation check runs",
    "monitoring": "production monitoring",
    "signing": "signing versions (production moves sign them)",
    "pdf": "PDF model cards",
    "spark": "the Spark monitoring engine",
    "postgres": "PostgreSQL (the store or a data source)",
    "s3": "S3 artifact stores and data",
    "mlflow": "importing from MLflow",
    "onnx": "ONNX models",
    "shap": "SHAP explanations",
    "compliance": "OSCAL, CycloneDX and SPDX exports",
    "demo": "the demo (a server with validation, monitoring and signing)",
}

# Top-level import name -> the extras that provide it, most likely first. A library shared by
# several extras is attributed by which Steward package was importing it (see _extra_for).
PROVIDED_BY: dict[str, tuple[str, ...]] = {
    "fastapi": ("server",),
    "starlette": ("server",),
    "uvicorn": ("server",),
    "multipart": ("server",),
    "python_multipart": ("server",),
    "sqlalchemy": ("server",),
    "alembic": ("server",),
    "jinja2": ("server",),
    "markupsafe": ("server",),
    "babel": ("server",),
    "argon2": ("server",),
    "prometheus_client": ("server",),
    "authlib": ("server",),
    "joserfc": ("server",),
    "fsspec": ("server", "validation", "monitoring"),
    "numpy": ("validation", "monitoring"),
    "pandas": ("validation", "monitoring"),
    "pyarrow": ("validation", "monitoring"),
    "scipy": ("validation", "monitoring"),
    "sklearn": ("validation",),
    "skops": ("validation",),
    "duckdb": ("monitoring",),
    "model_signing": ("signing",),
    "OpenSSL": ("signing",),
    "weasyprint": ("pdf",),
    "pyspark": ("spark",),
    "psycopg": ("postgres",),
    "s3fs": ("s3",),
    "mlflow": ("mlflow",),
    "onnx": ("onnx",),
    "onnxruntime": ("onnx",),
    "shap": ("shap",),
    "trestle": ("compliance",),
    "cyclonedx": ("compliance",),
    "spdx_python_model": ("compliance",),
}

# The modules whose presence shows an extra is installed.
MODULES: dict[str, tuple[str, ...]] = {
    "server": (
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "jinja2",
        "argon2",
        "fsspec",
        "prometheus_client",
    ),
    "validation": ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "skops"),
    "monitoring": ("numpy", "pandas", "pyarrow", "scipy", "duckdb"),
    "signing": ("model_signing",),
    "pdf": ("weasyprint",),
    "spark": ("pyspark",),
    "postgres": ("psycopg",),
    "s3": ("s3fs",),
    "mlflow": ("mlflow",),
    "compliance": ("trestle", "cyclonedx", "spdx_python_model"),
}
MODULES["demo"] = tuple(
    dict.fromkeys(
        MODULES["server"] + MODULES["validation"] + MODULES["monitoring"] + MODULES["signing"]
    )
)

# A Steward package found in the traceback decides between extras sharing a library.
_PACKAGE_EXTRA = (
    ("steward/monitoring/", "monitoring"),
    ("steward/validation/", "validation"),
    ("steward/services/monitoring", "monitoring"),
    ("steward/services/validation", "validation"),
    ("steward/demo/", "demo"),
)


def missing(extra: str, module: str) -> MissingExtra:
    """The error for ``module`` (provided by ``extra``) not being installed."""
    what = PURPOSE.get(extra, extra)
    return MissingExtra(
        f"This needs {what}, which this installation lacks (Python module '{module}' is "
        f"missing). Install it with: pip install 'steward[{extra}]'",
        extra=extra,
        module=module,
    )


def require(extra: str, module: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtra` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise missing(extra, exc.name or module) from None


def require_extra(extra: str) -> None:
    """Raise :class:`MissingExtra` unless every library of ``extra`` is importable.

    Checked with ``find_spec`` so nothing heavy is imported just to look.
    """
    for module in MODULES[extra]:
        if importlib.util.find_spec(module) is None:
            raise missing(extra, module)


def available(module: str) -> bool:
    """Whether ``module`` can be imported (without raising)."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError:
        return False
    return True


def from_import_error(exc: ModuleNotFoundError) -> MissingExtra | None:
    """The :class:`MissingExtra` behind ``exc``, or None when no extra provides the module."""
    root = (exc.name or "").split(".")[0]
    if root not in PROVIDED_BY:
        return None
    return missing(_extra_for(exc, PROVIDED_BY[root]), exc.name or root)


def _extra_for(exc: BaseException, candidates: tuple[str, ...]) -> str:
    if len(candidates) == 1:
        return candidates[0]
    files = [frame.filename.replace("\\", "/") for frame in traceback.extract_tb(exc.__traceback__)]
    for marker, extra in _PACKAGE_EXTRA:
        if any(marker in f for f in files) and (extra in candidates or extra == "demo"):
            return extra
    return candidates[0]
