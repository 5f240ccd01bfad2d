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
