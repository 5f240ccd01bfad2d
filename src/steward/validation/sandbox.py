"""Run a validation suite over artifact files, in this process or in a sandboxed child.

:func:`execute` loads the model (and baseline) and runs the suite; the embedded store calls it
in-process. A server never loads a format that runs code when read (pickle, joblib, MLflow
pyfunc, skops types a caller trusts) in its own process: :func:`run_isolated` runs
:func:`execute` in a separate Python process (``python -m steward.validation.sandbox``) that

* starts with an empty environment (no database URL, keys or cloud credentials), a temporary
  working directory that holds only its inputs, and one thread per numeric library;
* has no network when unprivileged user namespaces are available (``unshare``: a network
  namespace with no interface but a downed loopback, and a PID namespace so that nothing it
  starts outlives it), and refuses socket connections through a Python audit hook in any
  case; it runs in its own process group, which the parent kills when the run ends;
* lowers its own limits before reading any input: address space, CPU seconds, open files, size
  of files it writes, no core dumps; the parent also kills it after a wall-clock timeout.

The child answers with JSON only (results, summary and base64 evidence), which the parent
validates field by field: nothing the child writes is ever unpickled by the server. Inputs go
the other way as pickles the parent wrote itself into a fresh directory.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.domain.errors import ArtifactError, InvalidInput, NotFound, StewardError
from steward.validation.options import ValidateOptions

if TYPE_CHECKING:  # imported lazily at run time: the child sets its limits first
    from steward.validation.runner import EvidenceBlob, RunOutput

JOB_FILE = "job.json"
OUT_FILE = "out.json"
MAX_OUTPUT_BYTES = 256 * 1024**2  # the answer we are willing to parse from the child
OPEN_FILES = 256  # enough for the interpreter, numpy/pandas/sklearn and the inputs
WRITE_BYTES = 512 * 1024**2  # the largest file the child may write (its answer included)
_ERRORS: dict[str, type[StewardError]] = {
    cls.code: cls for cls in (InvalidInput, ArtifactError, NotFound)
}


@dataclass(frozen=True)
class Artifact:
    """A model file to load: its path (relative to the sandbox folder in the child)."""

    path: str
    flavor: str
    label: str = ""  # e.g. "version 2", for the baseline


@dataclass(frozen=True)
class Job:
    """Everything a run needs besides the data frames (JSON, to cross the process boundary)."""

    options: ValidateOptions
    suite_name: str  # a shipped suite, or the source name of suite_yaml
    suite_yaml: str | None = None
    model: Artifact | None = None
    baseline: Artifact | None = None
    baseline_error: str | None = None  # the baseline could not be fetched (parent side)
    profile: dict[str, dict[str, Any]] | None = None
    signature: list[tuple[str, str]] | None = None
    tier: str | None = None
    # What a positive prediction means as the model states it (None: unstated); the run's
    # own ``options.positive_means`` wins.
    model_positive_means: str | None = None


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    cpu_seconds: int


def execute(
    job: Job,
    data: Any,
    reference: Any,
    *,
    root: Path | None = None,
    suite: Any = None,
    progress: Any = None,
) -> RunOutput:
    """Load the job's model and baseline and run its suite; returns a ``runner.RunOutput``."""
    from steward.validation import loading, runner
    from steward.validation.suites import load_suite, parse_suite

    if suite is None:
        suite = (
            parse_suite(job.suite_yaml, job.suite_name)
            if job.suite_yaml is not None
            else load_suite(job.suite_name, allow_path=False)
        )
    base = root or Path("/")
    options = job.options
    extra: dict[str, Any] = {}
    if job.baseline_error:
        extra["baseline_error"] = job.baseline_error
    loaded: list[loading.LoadedModel] = []

    def load(artifact: Artifact) -> loading.LoadedModel:
        model = loading.load_model(
            base / artifact.path,
            artifact.flavor,
            trusted=tuple(options.trusted_types),
            trust=options.trust_pickle,
        )
        loaded.append(model)
        return model

    try:
        model_obj = None if job.model is None else load(job.model)
        baseline_obj = None
        if model_obj is not None and job.baseline is not None:
            try:
                baseline_obj = load(job.baseline)
            except StewardError as exc:
                extra["baseline_error"] = f"{job.baseline.label} could not be loaded: {exc}"
        inputs = runner.RunInputs(
            data=data,
            target=options.target,
            sensitive=tuple(options.sensitive),
            model=model_obj,
            predictions=options.predictions,
            features=options.features,
            reference=reference,
            profile=job.profile,
            signature=job.signature,
            baseline=baseline_obj,
            baseline_label=job.baseline.label if baseline_obj is not None and job.baseline else "",
            baseline_error=extra.get("baseline_error"),
            tier=job.tier,
            settings=options.settings,
            positive_means=options.positive_means,
            model_positive_means=job.model_positive_means,
        )
        output = runner.run_suite(suite, inputs, progress)
    finally:
        for item in loaded:
            item.close()
    return replace(output, summary={**output.summary, **extra})


# -- the parent side ------------------------------------------------------------------


@functools.cache
def network_isolation() -> list[str]:
    """The command prefix that isolates the child, if unprivileged namespaces are available:
    its own network namespace (no interface but a downed loopback) and, where possible, its
    own PID namespace, so that anything the model's code leaves running dies with the run."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    for flags in (["-r", "-n", "-p", "-f", "--kill-child"], ["-r", "-n"]):
        try:
            probe = subprocess.run(
                [unshare, *flags, "true"], capture_output=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return []
        if probe.returncode == 0:
            return [unshare, *flags, "--"]
    return []


def _child_env(folder: Path) -> dict[str, str]:
    """A stripped environment: only what Python needs to find Steward and its libraries."""
    paths = [p for p in sys.path if p and Path(p).is_dir()]
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        # One thread each: limits stay meaningful and nothing forks a pool behind our back.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def run_isolated(job: Job, data: Any, reference: Any, folder: Path, limits: Limits) -> RunOutput:
    """Run ``job`` in a sandboxed child whose working directory is ``folder``.

    ``folder`` is a fresh temporary directory holding only the job's artifact files (the
    job's paths are relative to it). Returns a ``runner.RunOutput`` rebuilt from the child's
    JSON answer, or raises the child's 4xx error, or :class:`ArtifactError` when the child
    died (a limit was reached).
    """
    # Parent -> child only: the child trusts what the server wrote for it.
    data.to_pickle(folder / "data.pkl")
    if reference is not None:
        reference.to_pickle(folder / "reference.pkl")
    payload = {
        "job": _job_json(job),
        "limits": {"memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds},
        "reference": reference is not None,
    }
    (folder / JOB_FILE).write_text(json.dumps(payload), encoding="utf-8")
    command = [
        *network_isolation(),
        sys.executable,
        "-s",
        "-m",
        "steward.validation.sandbox",
        str(folder),
    ]
    wall = limits.cpu_seconds * 2 + 60
    child = subprocess.Popen(
        command,
        cwd=folder,
        env=_child_env(folder),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: ended below, with whatever it started
    )
    try:
        out, err = child.communicate(timeout=wall)
    except subprocess.TimeoutExpired:
        raise ArtifactError(
            f"The sandboxed validation did not finish in {wall} s (STEWARD_SANDBOX_CPU_SECONDS)."
        ) from None
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    done = subprocess.CompletedProcess(command, child.returncode, out, err)
    return _answer(folder / OUT_FILE, done, limits)


def _job_json(job: Job) -> dict[str, Any]:
    from steward import wire

    raw: dict[str, Any] = wire.dump(job, Job)
    return raw


def _answer(path: Path, done: subprocess.CompletedProcess[bytes], limits: Limits) -> RunOutput:
    from steward import wire
    from steward.domain.checks import CheckResult
    from steward.validation import runner

    if not path.is_file() or path.stat().st_size > MAX_OUTPUT_BYTES:
        status = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        raise ArtifactError(
            f"The sandboxed validation ended without a result ({status}); it may have reached "
            f"its limits ({limits.memory_bytes} bytes of memory, STEWARD_SANDBOX_MEMORY_BYTES; "
            f"{limits.cpu_seconds} CPU seconds, STEWARD_SANDBOX_CPU_SECONDS)."
        )
    try:
        answer = json.loads(path.read_bytes())
    except (ValueError, RecursionError):
        raise ArtifactError("The sandboxed validation answered with invalid JSON.") from None
    if not isinstance(answer, dict):
        raise ArtifactError("The sandboxed validation answered with something unexpected.")
    error = answer.get("error")
    if isinstance(error, dict):
        cls = _ERRORS.get(str(error.get("code")), ArtifactError)
        raise cls(str(error.get("detail") or "The sandboxed validation failed."))
    try:
        evidence = tuple(_blob(item) for item in answer["evidence"])
        summary = answer["summary"]
        if not isinstance(summary, dict):
            raise TypeError("summary")
        json.dumps(summary)  # storable (raises on absurd nesting)
        return runner.RunOutput(
            suite=str(answer["suite"]),
            suite_version=str(answer["suite_version"]),
            results=wire.load(tuple[CheckResult, ...], answer["results"], what="sandbox results"),
            evidence=evidence,
            summary=summary,
            started_at=datetime.fromisoformat(answer["started_at"]),
            finished_at=datetime.fromisoformat(answer["finished_at"]),
        )
    except (KeyError, TypeError, ValueError, RecursionError, InvalidInput) as exc:
        raise ArtifactError(f"The sandboxed validation answered with a bad result: {exc}") from None


# What the child may hand back as evidence: the runner writes plain SVG charts and a JSON
# summary. The code that produced them is the untrusted model's, and SVG is shown inline in
# model cards and the web UI, so anything beyond the elements and attributes Steward's own
# charts use (scripts, event handlers, links, foreign objects, entities) is refused.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
_SVG_NS = "{http://www.w3.org/2000/svg}"
_SVG_TAGS = frozenset(
    {"svg", "g", "title", "desc", "rect", "circle", "line", "polyline", "polygon", "path"}
    | {"text", "tspan"}
)
_SVG_ATTRIBUTES = frozenset(
    {"width", "height", "viewBox", "role", "aria-label", "class", "transform", "opacity"}
    | {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "points", "d"}
    | {"fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity"}
    | {"font-family", "font-size", "font-weight", "text-anchor", "dominant-baseline"}
)


def _blob(item: Any) -> EvidenceBlob:
    from steward.validation import runner

    name, media_type = str(item["name"]), str(item["media_type"])
    content = base64.b64decode(item["content"], validate=True)
    if not _NAME.fullmatch(name):
        raise ValueError(f"evidence name {name[:60]!r} is not a plain file name")
    if media_type == "application/json":
        json.loads(content)
    elif media_type == "image/svg+xml":
        _check_svg(name, content)
    else:
        raise ValueError(f"evidence {name} has media type {media_type[:60]!r}")
    return runner.EvidenceBlob(name=name, content=content, media_type=media_type)


def _check_svg(name: str, content: bytes) -> None:
    from xml.etree import ElementTree

    if b"<!" in content or b"<?" in content:  # no DOCTYPE, entities, comments or PIs
        raise ValueError(f"{name} holds markup declarations")
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise ValueError(f"{name} is not well-formed SVG: {exc}") from None
    for element in root.iter():
        tag = element.tag.removeprefix(_SVG_NS)
        if tag not in _SVG_TAGS:
            raise ValueError(f"{name} holds a <{tag[:40]}> element")
        for attribute in element.attrib:
            if attribute not in _SVG_ATTRIBUTES:
                raise ValueError(f"{name} holds a {attribute[:40]} attribute")


# -- the child side -------------------------------------------------------------------


def _limit(limits: Limits) -> None:
    import resource

    def lower(which: int, value: int) -> None:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # Soft and hard alike, so the model's code cannot raise them again; CPU gets a few
        # seconds between SIGXCPU (soft) and SIGKILL (hard), which nothing can ignore.
        grace = 5 if which == resource.RLIMIT_CPU else 0
        ceiling = value + grace if hard == resource.RLIM_INFINITY else min(value + grace, hard)
        resource.setrlimit(which, (value, ceiling))

    lower(resource.RLIMIT_AS, limits.memory_bytes)
    lower(resource.RLIMIT_CPU, limits.cpu_seconds)
    lower(resource.RLIMIT_NOFILE, OPEN_FILES)
    lower(resource.RLIMIT_FSIZE, WRITE_BYTES)
    lower(resource.RLIMIT_CORE, 0)


def _no_network(event: str, args: tuple[Any, ...]) -> None:
    # A tripwire for pure-Python code when no network namespace is available.
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        raise PermissionError("the validation sandbox has no network")


def _write(folder: Path, answer: dict[str, Any]) -> None:
    (folder / OUT_FILE).write_text(json.dumps(answer), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    folder = Path((argv if argv is not None else sys.argv[1:])[0]).resolve()
    payload = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
    _limit(Limits(**payload["limits"]))
    sys.addaudithook(_no_network)
    os.chdir(folder)
    try:
        import pandas as pd

        from steward import wire
        from steward.domain.checks import CheckResult

        job = wire.load(Job, payload["job"], what="sandbox job")
        data = pd.read_pickle(folder / "data.pkl")
        reference = pd.read_pickle(folder / "reference.pkl") if payload["reference"] else None
        output = execute(job, data, reference, root=folder)
        answer: dict[str, Any] = {
            "suite": output.suite,
            "suite_version": output.suite_version,
            "results": wire.dump(output.results, tuple[CheckResult, ...]),
            "summary": output.summary,
            "started_at": output.started_at.isoformat(),
            "finished_at": output.finished_at.isoformat(),
            "evidence": [
                {
                    "name": blob.name,
                    "media_type": blob.media_type,
                    "content": base64.b64encode(blob.content).decode("ascii"),
                }
                for blob in output.evidence
            ],
        }
    except StewardError as exc:
        answer = {"error": {"code": exc.code, "detail": exc.detail}}
    except MemoryError:
        answer = {
            "error": {
                "code": ArtifactError.code,
                "detail": "The sandboxed validation ran out of memory "
                "(STEWARD_SANDBOX_MEMORY_BYTES).",
            }
        }
    except Exception as exc:  # the model's own code failed: report it, never a traceback
        answer = {
            "error": {
                "code": ArtifactError.code,
                "detail": f"Validation failed in the sandbox: {type(exc).__name__}: {exc}",
            }
        }
    with contextlib.suppress(OSError):
        _write(folder, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
