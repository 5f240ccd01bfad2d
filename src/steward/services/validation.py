"""Validate a version: run a suite on its artifact (or on predictions) and store the evidence.

The artifact is read from the store and verified against its hash, the suite and every input
are checked before the model predicts on the full data, the plots and the JSON summary go into
the artifact store (content addressed), and the run is recorded through
:func:`steward.services.checks.store_run`, which binds it to the artifact and the data
fingerprint, audits it and opens findings for failed checks.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

from steward.domain.audit import Action
from steward.domain.checks import CheckRun, EvidenceFile, RunRecord, RunSource
from steward.domain.entities import CHAMPION, ModelVersion, PositiveMeans
from steward.domain.errors import Forbidden, InvalidInput, StewardError
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import checks, versions
from steward.services.access import check_first
from steward.services.context import Context
from steward.validation import loading, runner, sandbox
from steward.validation.checks import registry
from steward.validation.options import ValidateOptions
from steward.validation.suites import Suite, load_suite, parse_suite

DEFAULT_SUITES = {"classification": "classification-default", "regression": "regression-default"}
BASELINE_ALIAS = CHAMPION


def options_from_json(raw: Any) -> ValidateOptions:
    """Options a remote caller (or a stored job) sent as JSON: known fields only, and a
    suite by name — a suite file travels as its text (suite_yaml), never as a path."""
    from steward import wire

    if not isinstance(raw, dict):
        raise InvalidInput("options must be a JSON object.", field="options")
    known = [f.name for f in fields(ValidateOptions)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise InvalidInput(
            f"Unknown validation option(s): {', '.join(unknown)}. Known: {', '.join(known)}.",
            field="options",
        )
    options = wire.load(ValidateOptions, raw, what="validation options")
    if (
        options.suite
        and options.suite_yaml is None
        and ("/" in options.suite or "\\" in options.suite)
    ):
        raise InvalidInput(
            "suite must be the name of a shipped suite; send a suite file's text as suite_yaml.",
            field="suite",
        )
    return options


def resolve_suite(options: ValidateOptions, task_hint: str | None = None) -> Suite:
    if options.suite_yaml is not None:
        return parse_suite(options.suite_yaml, options.suite or "suite.yaml")
    if options.suite:
        # Suite files travel as text (suite_yaml): a service never reads a caller's path.
        return load_suite(options.suite, allow_path=False)
    return load_suite(DEFAULT_SUITES[task_hint or "classification"])


def _download(ctx: Context, found: ModelVersion, folder: Path, role: str) -> str:
    """Fetch the version's artifact into ``folder/role/``; its path relative to ``folder``."""
    relative = Path(role) / (Path(found.artifact.filename).name or "artifact")
    (folder / role).mkdir()
    ctx.artifacts.download(found.artifact.sha256, folder / relative)
    return str(relative)


def _trust_asked(options: ValidateOptions) -> list[str]:
    """The options by which a caller asks to load formats that run code when read."""
    asked = []
    if options.trust_pickle:
        asked.append("trust_pickle")
    if options.trusted_types:
        asked.append("trusted_types")  # skops calls the types it is told to trust
    return asked


def sandboxed(
    ctx: Context, principal: Principal, model: str, version: int, options: ValidateOptions
) -> bool:
    """Where the artifact may be loaded: True means only in a sandboxed subprocess.

    Trusting a pickle is a decision about the machine that unpickles it. On the caller's own
    machine (embedded SDK, local CLI) the caller decides and the model loads in-process. On a
    server the request cannot decide: such formats are refused — the refusal journalled in
    its own transaction, as the request fails — unless the administrator allowed them
    (STEWARD_ALLOW_UNTRUSTED_FORMATS), and then they load only in the sandbox.
    """
    asked = _trust_asked(options)
    if not asked or not ctx.remote or options.predictions is not None:
        return False  # nothing that runs code is loaded, or it is the caller's own machine
    if ctx.settings.allow_untrusted_formats:
        return True
    detail = (
        f"This server does not load formats that run code when read ({' and '.join(asked)} "
        "asked for it): a remote request cannot make the server trust a pickle, joblib, "
        "MLflow pyfunc or skops file. Save the model as skops (without extra trusted types) or "
        "ONNX, validate it on your own machine with the embedded store, or use predictions "
        "mode; an administrator may allow such formats in a sandbox with "
        "STEWARD_ALLOW_UNTRUSTED_FORMATS."
    )
    with ctx.uow.write() as uow:
        uow.record(
            principal.name,
            Action.VALIDATION_REFUSED,
            "version",
            f"{model}/{version}",
            {
                "model": model,
                "version": version,
                "asked": asked,
                "trusted_types": list(options.trusted_types),
                "reason": "untrusted formats are not enabled on this server",
            },
        )
        uow.commit()
    raise Forbidden(detail, setting="STEWARD_ALLOW_UNTRUSTED_FORMATS")


def _baseline_version(
    ctx: Context, principal: Principal, found: ModelVersion, options: ValidateOptions
) -> ModelVersion | None:
    if options.baseline is not None:
        if options.baseline == found.version:
            raise InvalidInput("The baseline must be another version.", field="baseline")
        return versions.get_version(ctx, principal, found.model, options.baseline)
    if found.parent_version is not None:
        return versions.get_version(ctx, principal, found.model, found.parent_version)
    aliases = versions.list_aliases(ctx, principal, found.model)
    champion = aliases.get(BASELINE_ALIAS)
    if champion is not None and champion != found.version:
        return versions.get_version(ctx, principal, found.model, champion)
    return None


def _put_bytes(ctx: Context, digest: str, content: bytes) -> None:
    fd, name = tempfile.mkstemp(prefix="steward-evidence-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        ctx.artifacts.put(path, digest)
    finally:
        path.unlink(missing_ok=True)


def _put_evidence(ctx: Context, blobs: Sequence[runner.EvidenceBlob]) -> tuple[EvidenceFile, ...]:
    stored: list[EvidenceFile] = []
    for blob in blobs:
        digest = hashlib.sha256(blob.content).hexdigest()
        _put_bytes(ctx, digest, blob.content)
        stored.append(EvidenceFile(blob.name, digest, blob.media_type, len(blob.content)))
    return tuple(stored)


def _store(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    record: RunRecord,
    blobs: Sequence[runner.EvidenceBlob],
) -> CheckRun:
    """Record the run with its evidence blobs; if that fails, leave no orphan blob behind.

    Blobs are content addressed and may be shared with other runs. Each is locked while
    the run is recorded (and put again if a failed run's clean-up removed it after our
    upload), and a failure deletes, under the same lock, only blobs nothing committed
    points to — the pattern of :func:`steward.services.versions.create_version`.
    """
    contents = {hashlib.sha256(b.content).hexdigest(): b.content for b in blobs}
    try:
        with ctx.uow.write() as uow:
            for digest, content in sorted(contents.items()):
                uow.versions.lock_artifact(digest)
                if not ctx.artifacts.exists(digest):
                    _put_bytes(ctx, digest, content)
            run = checks.store_run_in_uow(uow, ctx, principal.name, model, version, record)
            uow.commit()
        return run
    except BaseException:
        # Clean-up must never hide the error that got us here.
        with contextlib.suppress(Exception):
            _discard_evidence(ctx, sorted(contents))
        raise


def _discard_evidence(ctx: Context, digests: Sequence[str]) -> None:
    with ctx.uow.write() as uow:
        for digest in digests:
            uow.versions.lock_artifact(digest)
            if not (uow.check_runs.evidence_in_use(digest) or uow.versions.artifact_in_use(digest)):
                ctx.artifacts.delete(digest)
        uow.commit()


def validate(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    data: Any,
    options: ValidateOptions,
    *,
    reference: Any = None,
    progress: runner.Progress | None = None,
) -> CheckRun:
    """Run a suite on version ``version`` of ``model`` and store the run as evidence.

    ``data`` and ``reference`` are frames (pandas, Polars, Arrow) or CSV/Parquet paths.
    """
    ensure(principal, Permission.CHECK_RUN)
    # Refused before any data is loaded or any model is unpickled.
    check_first(ctx, principal, Permission.CHECK_RUN, model)
    data = loading.load_data(data, "data")
    reference = None if reference is None else loading.load_data(reference, "reference")
    from steward.lineage.datasets import fingerprint
    from steward.services.models import get_model

    found = versions.get_version(ctx, principal, model, version)
    isolate = sandboxed(ctx, principal, model, version, options)
    entry = get_model(ctx, principal, model)
    tier = entry.risk_tier.value
    # The run's statement; the model's is its default (unstated models are asked by the runner).
    model_positive_means = (
        None if entry.positive_means == PositiveMeans.UNSTATED else entry.positive_means.value
    )
    hint = None
    if options.suite is None and options.suite_yaml is None and _is_regression(data, options):
        hint = "regression"
    suite = resolve_suite(options, hint)
    needs = {r for c in suite.checks for r in registry()[c.check].requires}
    signature = (
        [(c.name, c.type) for c in found.signature.inputs]
        if found.signature and found.signature.inputs
        else None
    )
    job = sandbox.Job(
        options=options,
        suite_name=options.suite
        or ("suite.yaml" if options.suite_yaml else DEFAULT_SUITES[hint or "classification"]),
        suite_yaml=options.suite_yaml,
        profile=found.training_data.profile if found.training_data else None,
        signature=signature,
        tier=tier,
        model_positive_means=model_positive_means,
    )
    with tempfile.TemporaryDirectory(prefix="steward-validate-") as tmp:
        folder = Path(tmp)
        if options.predictions is None:
            job = replace(
                job,
                model=sandbox.Artifact(
                    _download(ctx, found, folder, "model"), found.artifact.flavor.value
                ),
            )
            base = (
                _baseline_version(ctx, principal, found, options) if "baseline" in needs else None
            )
            if base is not None:
                label = f"version {base.version}"
                try:
                    where = _download(ctx, base, folder, "baseline")
                    job = replace(
                        job, baseline=sandbox.Artifact(where, base.artifact.flavor.value, label)
                    )
                except StewardError as exc:
                    job = replace(job, baseline_error=f"{label} could not be loaded: {exc}")
        if isolate:
            limits = sandbox.Limits(
                ctx.settings.sandbox_memory_bytes, ctx.settings.sandbox_cpu_seconds
            )
            output = sandbox.run_isolated(job, data, reference, folder, limits)
        else:
            output = sandbox.execute(
                job, data, reference, root=folder, suite=suite, progress=progress
            )
    evidence = _put_evidence(ctx, output.evidence)
    summary = {
        **output.summary,
        "trusted_types": list(options.trusted_types),
        "trusted_pickle": options.trust_pickle,
    }
    if isolate:
        summary["sandboxed"] = True
    if reference is not None:
        summary["reference_fingerprint"] = fingerprint(reference)
    record = RunRecord(
        suite=output.suite,
        suite_version=output.suite_version,
        source=RunSource.STEWARD,
        data_fingerprint=fingerprint(data),
        results=output.results,
        started_at=output.started_at,
        finished_at=output.finished_at,
        summary=summary,
        evidence=evidence,
        artifact_sha256=found.artifact.sha256,
    )
    return _store(ctx, principal, model, version, record, output.evidence)


def _is_regression(data: pd.DataFrame, options: ValidateOptions) -> bool:
    column = options.predictions.y_true if options.predictions else options.target
    if not column or column not in data.columns:
        return False
    series = data[column]
    return (
        pd.api.types.is_float_dtype(series)
        and series.nunique() > 2
        and not set(series.dropna().unique()) <= {0.0, 1.0}
    )


# The shipped suites parsed once per process (parsing the YAML took ~0.4 s per page of the
# run-validation form under load), again whenever a suite file's size or time changes.
_SUITE_LIST: dict[tuple[tuple[str, int, int], ...], list[dict[str, Any]]] = {}


def list_suites(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    """The shipped suites with their checks (for `steward check suites` and the API)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    from steward.validation.suites import SUITES_DIR, shipped

    names = shipped()
    stats = [(name, (SUITES_DIR / f"{name}.yaml").stat()) for name in names]
    key = tuple((name, st.st_mtime_ns, st.st_size) for name, st in stats)
    cached = _SUITE_LIST.get(key)
    if cached is None:
        cached = []
        for name in names:
            suite = load_suite(name)
            cached.append(
                {
                    "name": suite.name,
                    "version": suite.version,
                    "task": suite.task,
                    "description": suite.description,
                    "checks": [c.check for c in suite.checks],
                }
            )
        _SUITE_LIST.clear()
        _SUITE_LIST[key] = cached
    return copy.deepcopy(cached)  # the caller's to change
