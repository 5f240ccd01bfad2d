"""`steward mlflow import` and `status` on the command line, against the real MLflow server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import flat, ok, run
from tests.conftest import free_port
from tests.mlflow_bridge.conftest import Logged


def test_import_prints_a_summary_and_a_rerun_imports_nothing(
    tmp_path: Path, registry: Logged
) -> None:
    ok(tmp_path, "init")
    first = flat(
        ok(
            tmp_path,
            "mlflow",
            "import",
            "--tracking-uri",
            registry.url,
            "--model",
            "Credit Scoring",
        ).output
    )
    assert "Models created credit-scoring" in first
    assert "Versions imported 2" in first
    assert "'Credit Scoring' -> credit-scoring" in first
    assert "credit-scoring@champion -> 1" in first

    again = json.loads(
        ok(
            tmp_path,
            "mlflow",
            "import",
            "--tracking-uri",
            registry.url,
            "--model",
            "Credit Scoring",
            "--json",
        ).stdout
    )
    assert again["versions_imported"] == [] and again["versions_skipped"] == 2

    status = flat(ok(tmp_path, "mlflow", "status", "--tracking-uri", registry.url).output)
    assert "credit-scoring/1" in status and "credit-scoring/2" in status
    assert "not yet in Steward" in status and "fraud-detector (model not imported)" in status


def test_bad_input_names_the_fix_and_exits_1(tmp_path: Path) -> None:
    ok(tmp_path, "init")
    down = run(tmp_path, "mlflow", "import", "--tracking-uri", f"http://127.0.0.1:{free_port()}")
    assert down.exit_code == 1 and "does not answer" in down.output
    mapped = run(
        tmp_path,
        "mlflow",
        "import",
        "--tracking-uri",
        "http://127.0.0.1:1",
        "--stage-map",
        "Production=live",
    )
    assert mapped.exit_code == 1 and "Invalid Steward stage 'live'" in mapped.output
    scheme = run(tmp_path, "mlflow", "import", "--tracking-uri", "file:///tmp/mlruns")
    assert scheme.exit_code == 1 and "give the server's http(s) address" in scheme.output
