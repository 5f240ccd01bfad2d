"""The server reads the sandbox's answer as hostile: the code that wrote it is the model's.

A pickle that runs in the sandbox can write any answer file. It must not get script into the
server's pages through an evidence SVG (model cards inline them), nor path tricks through
evidence names, nor crash the server with absurd JSON.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from steward.domain.errors import ArtifactError, InvalidInput
from steward.validation import sandbox, svg

LIMITS = sandbox.Limits(memory_bytes=1024**3, cpu_seconds=10)
DONE = subprocess.CompletedProcess(args=[], returncode=0)


def _answer(tmp_path: Path, evidence: list[dict[str, Any]], **extra: Any) -> Any:
    body = {
        "suite": "tiny",
        "suite_version": "1",
        "results": [],
        "summary": {},
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:00:01+00:00",
        "evidence": evidence,
        **extra,
    }
    path = tmp_path / sandbox.OUT_FILE
    path.write_text(json.dumps(body))
    return sandbox._answer(path, DONE, LIMITS)


def _blob(name: str, content: str, media_type: str = "image/svg+xml") -> dict[str, str]:
    return {
        "name": name,
        "media_type": media_type,
        "content": base64.b64encode(content.encode()).decode(),
    }


def test_steward_s_own_charts_pass(tmp_path: Path) -> None:
    bars = svg.bar_chart("Importance <by> feature", ["a", "b"], [0.2, -0.1], reference=0.1)
    lines = svg.line_chart(
        "ROC",
        [("model", [0.0, 0.5, 1.0], [0.0, 0.7, 1.0])],
        x_label="FPR",
        y_label="TPR",
        diagonal=True,
    )
    output = _answer(
        tmp_path,
        [
            _blob("bars.svg", bars),
            _blob("roc.svg", lines),
            _blob("summary.json", "{}", "application/json"),
        ],
    )
    assert [b.name for b in output.evidence] == ["bars.svg", "roc.svg", "summary.json"]


@pytest.mark.parametrize(
    ("blob", "complaint"),
    [
        (
            _blob(
                "x.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
            ),
            "<script> element",
        ),
        (
            _blob("x.svg", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
            "onload attribute",
        ),
        (
            _blob("x.svg", '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>'),
            "<foreignObject> element",
        ),
        (_blob("x.svg", '<!DOCTYPE svg [<!ENTITY a "b">]><svg>&a;</svg>'), "declarations"),
        (_blob("../../etc/x.svg", "<svg/>"), "not a plain file name"),
        (_blob("x.html", "<p>", "text/html"), "media type"),
        (_blob("x.svg", "<svg"), "not well-formed"),
    ],
)
def test_hostile_evidence_is_refused(tmp_path: Path, blob: dict[str, str], complaint: str) -> None:
    with pytest.raises(ArtifactError, match=complaint):
        _answer(tmp_path, [blob])


def test_absurd_json_and_forged_errors(tmp_path: Path) -> None:
    path = tmp_path / sandbox.OUT_FILE
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ArtifactError, match=r"invalid JSON|something unexpected"):
        sandbox._answer(path, DONE, LIMITS)
    # The child may report a 4xx error; it cannot pick a class outside the expected ones.
    path.write_text(json.dumps({"error": {"code": "integrity-error", "detail": "x"}}))
    with pytest.raises(ArtifactError):
        sandbox._answer(path, DONE, LIMITS)
    path.write_text(json.dumps({"error": {"code": "invalid-input", "detail": "bad target"}}))
    with pytest.raises(InvalidInput, match="bad target"):
        sandbox._answer(path, DONE, LIMITS)


def test_a_child_that_died_is_reported_with_the_limits(tmp_path: Path) -> None:
    killed = subprocess.CompletedProcess(args=[], returncode=-9)
    with pytest.raises(ArtifactError, match=r"signal 9.*STEWARD_SANDBOX_MEMORY_BYTES"):
        sandbox._answer(tmp_path / sandbox.OUT_FILE, killed, LIMITS)


class _Hog:
    """Unpickles by asking for 8 GiB at once: the sandbox's address-space limit refuses it."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (bytearray, (8 * 1024**3,))


def test_the_memory_limit_holds_in_the_child(tmp_path: Path) -> None:
    import pickle

    import pandas as pd

    from steward.validation.options import ValidateOptions

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "hog.pkl").write_bytes(pickle.dumps(_Hog()))
    job = sandbox.Job(
        options=ValidateOptions(target="y", trust_pickle=True),
        suite_name="classification-default",
        model=sandbox.Artifact("model/hog.pkl", "other"),
    )
    data = pd.DataFrame({"x": [0, 1] * 20, "y": [0, 1] * 20})
    limits = sandbox.Limits(memory_bytes=2 * 1024**3, cpu_seconds=60)
    with pytest.raises(ArtifactError, match="out of memory"):
        sandbox.run_isolated(job, data, None, tmp_path, limits)
