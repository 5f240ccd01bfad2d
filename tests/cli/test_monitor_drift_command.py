"""`steward monitor create/run` from the command line: methods that cannot test a column are
refused at creation; exact and sketch modes, shown with every score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tests.cli.helpers import flat, ok, run

import steward


def _frames(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"income": rng.lognormal(10, 0.5, 3000),
                        "grade": rng.choice(["A", "B", "C"], 3000)})
    cur = pd.DataFrame({"income": rng.lognormal(10.2, 0.6, 2000),
                        "grade": rng.choice(["A", "B", "C"], 2000, p=[0.5, 0.3, 0.2])})
    ref_path, cur_path = tmp_path / "reference.parquet", tmp_path / "batch.parquet"
    ref.to_parquet(ref_path)
    cur.to_parquet(cur_path)
    return ref_path, cur_path


def _production(home: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(home, "model", "create", "credit", "--owner", "alice")
    ok(home, "version", "create", "credit", str(artifact), "--no-git")
    client = steward.connect(home=str(home), actor="alice")
    try:
        for stage in ("validation", "approved", "production"):
            client.transition("credit", 1, to=stage, justification="test")
    finally:
        client.close()


def test_a_method_that_cannot_test_the_column_is_refused_at_creation(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ref, _cur = _frames(tmp_path)
    _production(home, tmp_path)
    done = run(home, "monitor", "create", "credit", "1", "--reference", str(ref),
               "--column", "income", "--method", "chisquare")
    assert done.exit_code != 0
    text = flat(done.output)
    assert "'income'" in text and "methods that fit: psi, ks, wasserstein, jensenshannon" in text
    done = run(home, "monitor", "create", "credit", "1", "--reference", str(ref),
               "--column", "grade", "--method", "ztest")
    assert done.exit_code != 0
    assert "'grade' has 3 categories" in flat(done.output)
    assert "mon_" not in flat(ok(home, "monitor", "list").output)  # nothing half-written


def _shifted(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    """The reported case: ~16 % of the batch beyond the reference max."""
    rng = np.random.default_rng(2026)
    ref = pd.DataFrame({"income": rng.normal(50, 10, 4000)})
    beyond = 640
    cur = pd.DataFrame({"income": np.r_[rng.normal(52, 10, 4000 - beyond),
                                        ref.income.max() + rng.exponential(30, beyond)]})
    ref_path, cur_path = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    ref.to_parquet(ref_path)
    cur.to_parquet(cur_path)
    return ref_path, cur_path, ref, cur


def test_monitors_are_exact_by_default_and_show_the_mode_with_every_score(tmp_path: Path) -> None:
    from scipy import stats as sps
    from tests.cli.helpers import as_json

    home = tmp_path / "store"
    ref_path, cur_path, ref, cur = _shifted(tmp_path)
    _production(home, tmp_path)
    ok(home, "monitor", "create", "credit", "1", "--reference", str(ref_path),
       "--column", "income", "--method", "wasserstein")
    shown = flat(ok(home, "monitor", "show", "credit").output)
    assert "exact (exact reference kept)" in shown
    done = ok(home, "monitor", "run", "credit", "--data", str(cur_path))
    text = flat(done.output)
    assert "Drift (exact)" in text and "income wasserstein" in text
    expected = sps.wasserstein_distance(ref.income, cur.income) / np.std(ref.income)
    run_json = as_json(home, "monitor", "run", "credit", "--data", str(cur_path))
    assert run_json["mode"] == "exact"
    score = next(r for r in run_json["results"] if r["metric"] == "drift_score")
    assert score["details"]["mode"] == "exact" and score["details"]["error_bound"] is None
    assert abs(score["value"] - expected) <= 1e-9 * expected
    # the same monitor in sketch mode for one run: the bound holds the exact value
    sketch = as_json(home, "monitor", "run", "credit", "--data", str(cur_path), "--mode",
                     "sketch")
    assert sketch["mode"] == "sketch"
    s = next(r for r in sketch["results"] if r["metric"] == "drift_score")
    assert s["details"]["mode"] == "sketch"
    assert abs(s["value"] - expected) <= s["details"]["error_bound"]
    table = flat(ok(home, "monitor", "run", "credit", "--data", str(cur_path), "--mode",
                    "sketch").output)
    assert "Drift (sketch)" in table and "sketch" in table


def test_a_sketch_monitor_refuses_an_exact_run(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ref_path, cur_path, _ref, _cur = _shifted(tmp_path)
    _production(home, tmp_path)
    ok(home, "monitor", "create", "credit", "1", "--reference", str(ref_path),
       "--column", "income", "--mode", "sketch")
    assert "sketch (no exact reference" in flat(ok(home, "monitor", "show", "credit").output)
    done = run(home, "monitor", "run", "credit", "--data", str(cur_path), "--mode", "exact")
    assert done.exit_code != 0
    assert "--mode sketch" in flat(done.output)
    bad = run(home, "monitor", "create", "credit", "1", "--name", "x", "--reference",
              str(ref_path), "--column", "income", "--mode", "precise")
    assert bad.exit_code != 0 and "modes are exact, sketch, auto" in flat(bad.output)
