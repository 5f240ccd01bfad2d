"""Validation benchmark: Steward's metric kernels against Fairlearn and scikit-learn, one command.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/validation.py               # 1 M and 10 M rows, updates BENCHMARKS.md
    .venv/bin/python bench/validation.py --quick       # 100 k and 1 M rows, no BENCHMARKS.md
    .venv/bin/python bench/validation.py --render bench/results/validation-<date>.json --write-md

The script installs Fairlearn into its own virtualenv (bench/.venv-fairlearn, with the
scikit-learn, pandas and numpy it pulls in), generates one synthetic binary-classification data
set per size (a score, the label, the prediction ``score >= 0.5`` and two sensitive features,
sex with 3 values and an age band with 5, so 15 intersectional groups), writes it to .npy files
and measures, in a fresh process per engine and size, the same work on the same arrays:

* **fairness** — Steward: ``fairness_report`` (per-group count, selection rate, TPR, FPR,
  precision, accuracy; DPD/DPR, EOD/EOR, equal opportunity, four-fifths rule). Fairlearn:
  ``MetricFrame`` with selection rate, TPR, FPR and accuracy, plus
  ``demographic_parity_difference`` and ``equalized_odds_difference`` (Fairlearn does less).
  **pandas groupby** — what a competent user writes without either library: one
  ``DataFrame.groupby([sex, age_band]).agg(...)`` of the confusion counts, then the per-group
  rates and DPD/DPR/EOD/EOR with pandas arithmetic (Steward's Python, same warm-up and runs);
* **performance** — Steward: ``classification_report`` (accuracy, precision, recall, F1, ROC
  AUC, Gini, KS, average precision, log loss, Brier, reliability curve + ECE). scikit-learn:
  ``accuracy_score``, ``precision_score``, ``recall_score``, ``f1_score``, ``roc_auc_score``,
  ``average_precision_score``, ``log_loss``, ``brier_score_loss``, ``calibration_curve``.

Each measurement is the median of ``--repeats`` timed runs after one warm-up (the peer at the
largest size: ``--peer-repeats-large`` runs, no warm-up — one Fairlearn run at 10 M rows takes
minutes). Peak memory is the worker's peak RSS (``ru_maxrss``) above its RSS once the data was
loaded. The workers also print the numbers they computed; the script checks that Steward's
equal the peers' to 1e-9 and fails otherwise. Results go to stdout,
bench/results/validation-<date>.json and, for full runs, the "Validation" section of
BENCHMARKS.md (through bench/report.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, replace_section  # bench/report.py, shared by the benchmarks

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
RESULTS_DIR = BENCH_DIR / "results"
PEER_VENV = BENCH_DIR / ".venv-fairlearn"
PEER_MARKER = PEER_VENV / "bench-install.json"
STEWARD_PYTHON = REPO / ".venv" / "bin" / "python"
SECTION_TITLE = "## Validation (bench/validation.py)"

PYTHON_FOR_PEER = "python3.11"
PEER_SPEC = "fairlearn==0.15.*"
PEER_FALLBACK_SPEC = "fairlearn>=0.15"

SEXES = ("female", "male", "nonbinary")
AGE_BANDS = ("18-25", "26-35", "36-50", "51-65", "65+")
TOLERANCE = 1e-9
TARGET_RATIO = 100.0  # at least 100 times Fairlearn at 1 M rows
TARGET_PANDAS_RATIO = 10.0  # at least 10 times pandas groupby at 1 M and 10 M rows
TARGET_INTERVALS_S = 2.0  # 1 000 bootstrap replicates add at most 2 s at 10 M rows
TIMES = "\u00d7"  # the multiplication sign, for the Markdown report
TARGET_LARGE_S = 10.0  # 10 M rows within 10 s ...
TARGET_LARGE_GIB = 2.0  # ... and 2 GiB

FULL_SIZES = (1_000_000, 10_000_000)
QUICK_SIZES = (100_000, 1_000_000)


def log(message: str) -> None:
    print(f"[validation-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


def run_checked(cmd: list[str], timeout: float | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BenchError(
            f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


# --------------------------------------------------------------------------------------------
# Peer installation


def install_peer() -> dict[str, Any]:
    """Fairlearn (with scikit-learn, pandas, numpy) in bench/.venv-fairlearn, reused later."""
    if PEER_MARKER.exists():
        marker = json.loads(PEER_MARKER.read_text())
        log(f"Fairlearn {marker['fairlearn']} already installed in {PEER_VENV}")
        return dict(marker)
    python = shutil.which(PYTHON_FOR_PEER)
    if python is None:
        raise BenchError(f"{PYTHON_FOR_PEER} not found on PATH (needed for {PEER_VENV})")
    t0 = time.perf_counter()
    if not (PEER_VENV / "bin" / "python").exists():
        log(f"creating {PEER_VENV} with {PYTHON_FOR_PEER}")
        run_checked([python, "-m", "venv", str(PEER_VENV)])
    pip = [str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    spec = PEER_SPEC
    try:
        log(f"pip install '{spec}' (about a minute)")
        run_checked([*pip, spec])
    except BenchError as first:
        log(f"'{spec}' did not install ({str(first).splitlines()[0]}); "
            f"trying '{PEER_FALLBACK_SPEC}'")
        spec = PEER_FALLBACK_SPEC
        run_checked([*pip, spec])
    versions = json.loads(run_checked([
        str(PEER_VENV / "bin" / "python"), "-c",
        "import importlib.metadata as m, json, platform; print(json.dumps({p: m.version(p) for p "
        "in ('fairlearn', 'scikit-learn', 'pandas', 'numpy')} | "
        "{'python': platform.python_version()}))",
    ]))
    marker = versions | {"requested": PEER_SPEC, "installed_with": spec,
                         "install_seconds": round(time.perf_counter() - t0, 1)}
    PEER_MARKER.write_text(json.dumps(marker, indent=2) + "\n")
    return marker


# --------------------------------------------------------------------------------------------
# Data


def write_data(rows: int, directory: Path, seed: int = 20261127) -> None:
    """One synthetic credit-style data set; the same files feed both engines."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sex_code = rng.choice(3, rows, p=[0.48, 0.48, 0.04])
    age_code = rng.choice(5, rows, p=[0.15, 0.25, 0.3, 0.2, 0.1])
    y = (rng.random(rows) < 0.3).astype(np.int8)  # 30 % defaults
    score = rng.beta(2.0, 5.0, rows) + 0.25 * y + 0.03 * (sex_code == 1) - 0.02 * age_code
    score = np.clip(score, 0.0, 1.0)
    np.save(directory / "y_true.npy", y)
    np.save(directory / "y_score.npy", score)
    np.save(directory / "y_pred.npy", (score >= 0.5).astype(np.int8))
    np.save(directory / "sex.npy", np.array(SEXES)[sex_code])
    np.save(directory / "age_band.npy", np.array(AGE_BANDS)[age_code])


# --------------------------------------------------------------------------------------------
# Workers (run in a fresh process: `validation.py --worker ENGINE --data DIR`)


def _status_mib(field: str) -> float:
    """A /proc/self/status memory field: VmRSS (now) or VmHWM (this process image's peak;
    ru_maxrss would also keep a parent's peak across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _steward_tasks() -> dict[str, Any]:
    from steward.validation import metrics as vm

    def fairness(d: dict[str, Any]) -> dict[str, Any]:
        rep = vm.fairness_report(d["y_true"], d["y_pred"],
                                 {"sex": d["sex"], "age_band": d["age_band"]})
        return {
            "demographic_parity_difference": rep.demographic_parity_difference,
            "demographic_parity_ratio": rep.demographic_parity_ratio,
            "equalized_odds_difference": rep.equalized_odds_difference,
            "equalized_odds_ratio": rep.equalized_odds_ratio,
            "groups": len(rep.groups),
            "selection_rate": [g.selection_rate for g in rep.groups],
            "true_positive_rate": [g.true_positive_rate for g in rep.groups],
            "false_positive_rate": [g.false_positive_rate for g in rep.groups],
            "accuracy": [g.accuracy for g in rep.groups],
        }

    def performance(d: dict[str, Any]) -> dict[str, Any]:
        rep = vm.classification_report(d["y_true"], y_pred=d["y_pred"], y_score=d["y_score"])
        assert rep.calibration is not None
        return {
            "accuracy": rep.accuracy, "precision": rep.precision, "recall": rep.recall,
            "f1": rep.f1, "roc_auc": rep.roc_auc, "average_precision": rep.average_precision,
            "log_loss": rep.log_loss, "brier": rep.brier,
            "calibration_observed": list(rep.calibration.observed_rate),
        }

    def fairness_intervals(d: dict[str, Any]) -> dict[str, Any]:
        rep = vm.fairness_report(d["y_true"], d["y_pred"],
                                 {"sex": d["sex"], "age_band": d["age_band"]},
                                 interval_replicates=1000)
        found = rep.intervals["demographic_parity_difference"]
        assert found is not None
        return {"dpd_interval": [found["low"], found["high"]]}

    # The same report over group columns that arrive coded (see worker()).
    return {"fairness": fairness, "performance": performance,
            "fairness_intervals": fairness_intervals, "fairness_categorical": fairness,
            "fairness_text": fairness}


def _peer_tasks() -> dict[str, Any]:
    from fairlearn import metrics as fm
    from sklearn import metrics as sm
    from sklearn.calibration import calibration_curve

    def fairness(d: dict[str, Any]) -> dict[str, Any]:
        sf = {"sex": d["sex"], "age_band": d["age_band"]}
        frame = fm.MetricFrame(
            metrics={"selection_rate": fm.selection_rate,
                     "true_positive_rate": fm.true_positive_rate,
                     "false_positive_rate": fm.false_positive_rate,
                     "accuracy": sm.accuracy_score},
            y_true=d["y_true"], y_pred=d["y_pred"], sensitive_features=sf,
        )
        by_group = frame.by_group
        return {
            "demographic_parity_difference": float(fm.demographic_parity_difference(
                d["y_true"], d["y_pred"], sensitive_features=sf)),
            "equalized_odds_difference": float(fm.equalized_odds_difference(
                d["y_true"], d["y_pred"], sensitive_features=sf)),
            "groups": len(by_group),
            **{k: [float(v) for v in by_group[k]] for k in
               ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")},
        }

    def performance(d: dict[str, Any]) -> dict[str, Any]:
        y, p, s = d["y_true"], d["y_pred"], d["y_score"]
        observed, _ = calibration_curve(y, s, n_bins=10)
        return {
            "accuracy": sm.accuracy_score(y, p), "precision": sm.precision_score(y, p),
            "recall": sm.recall_score(y, p), "f1": sm.f1_score(y, p),
            "roc_auc": sm.roc_auc_score(y, s), "average_precision":
            sm.average_precision_score(y, s), "log_loss": sm.log_loss(y, s),
            "brier": sm.brier_score_loss(y, s),
            "calibration_observed": [float(v) for v in observed],
        }

    return {"fairness": fairness, "performance": performance}


def _pandas_tasks() -> dict[str, Any]:
    import pandas as pd

    def fairness(d: dict[str, Any]) -> dict[str, Any]:
        y, p = d["y_true"] == 1, d["y_pred"] == 1
        frame = pd.DataFrame({
            "sex": d["sex"], "age_band": d["age_band"], "n": 1, "selected": p,
            "positives": y, "tp": y & p, "fp": ~y & p, "correct": y == p,
        })
        # observed=True: on categorical columns, only the groups that occur (as on strings).
        counts = frame.groupby(["sex", "age_band"], sort=True, observed=True).sum()
        negatives = counts["n"] - counts["positives"]
        sr = counts["selected"] / counts["n"]
        # 0 for an empty denominator, as Fairlearn and Steward report it.
        tpr = (counts["tp"] / counts["positives"].where(counts["positives"] > 0)).fillna(0.0)
        fpr = (counts["fp"] / negatives.where(negatives > 0)).fillna(0.0)
        accuracy = counts["correct"] / counts["n"]
        return {
            "demographic_parity_difference": float(sr.max() - sr.min()),
            "demographic_parity_ratio": float(sr.min() / sr.max()),
            "equalized_odds_difference": float(max(tpr.max() - tpr.min(),
                                                   fpr.max() - fpr.min())),
            "equalized_odds_ratio": float(min(tpr.min() / tpr.max(), fpr.min() / fpr.max())),
            "groups": len(counts),
            "selection_rate": [float(v) for v in sr],
            "true_positive_rate": [float(v) for v in tpr],
            "false_positive_rate": [float(v) for v in fpr],
            "accuracy": [float(v) for v in accuracy],
        }

    return {"fairness": fairness, "fairness_categorical": fairness, "fairness_text": fairness}


def worker(engine: str, task_name: str, data_dir: Path, repeats: int, warmup: bool) -> None:
    import numpy as np

    tasks = {"steward": _steward_tasks, "pandas": _pandas_tasks, "peer": _peer_tasks}[engine]
    task = tasks()[task_name]
    d: dict[str, Any] = {name: np.load(data_dir / f"{name}.npy")
                         for name in ("y_true", "y_score", "y_pred")}
    # Group columns as they come out of a DataFrame: Python strings in an object array.
    for name in ("sex", "age_band"):
        d[name] = np.load(data_dir / f"{name}.npy").astype(object)
    if task_name.endswith("_text"):
        import pandas as pd

        # Group columns as pandas 3 reads text (read_csv, read_parquet): its `str` dtype,
        # Arrow-backed; converted before the clock starts, for both engines.
        for name in ("sex", "age_band"):
            d[name] = pd.array(d[name], dtype="str")
    if task_name.endswith("_categorical"):
        import pandas as pd

        # Group columns as a categorical-aware load gives them (Parquet dictionary columns,
        # read_csv(dtype="category")): coded before the clock starts, for both engines.
        for name in ("sex", "age_band"):
            d[name] = pd.Categorical(d[name])
    loaded_mib = _status_mib("VmRSS")
    if warmup:
        task(d)
    seconds = []
    values: dict[str, Any] = {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        values = task(d)
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({
        "rows": len(d["y_true"]),
        "seconds": seconds,
        "median_s": statistics.median(seconds),
        "loaded_mib": loaded_mib,
        "peak_rss_mib": _status_mib("VmHWM"),
        "peak_above_loaded_mib": max(0.0, _status_mib("VmHWM") - loaded_mib),
        "values": values,
    }))


TASKS = ("fairness", "performance")


def run_worker(engine: str, data_dir: Path, repeats: int, warmup: bool,
               tasks: tuple[str, ...] = TASKS) -> dict[str, Any]:
    """Each task in its own fresh process, so peak memory belongs to that task alone."""
    python = PEER_VENV / "bin" / "python" if engine == "peer" else STEWARD_PYTHON
    result: dict[str, Any] = {"loadavg_before": os.getloadavg()[0]}
    for task in tasks:
        cmd = [str(python), str(Path(__file__).resolve()), "--worker", engine, "--task", task,
               "--data", str(data_dir), "--repeats", str(repeats)]
        t0 = time.perf_counter()
        result[task] = json.loads(run_checked([*cmd, *(["--warmup"] if warmup else [])])
                                  .strip().splitlines()[-1])
        result[task]["wall_s"] = time.perf_counter() - t0
    result["loadavg_after"] = os.getloadavg()[0]
    return result


# --------------------------------------------------------------------------------------------
# Comparison and report


def compare(steward: dict[str, Any], peer: dict[str, Any],
            tasks: tuple[str, ...] = TASKS) -> float:
    """Largest absolute difference between the numbers both engines computed."""
    worst = 0.0
    for task in tasks:
        ours, theirs = steward[task]["values"], peer[task]["values"]
        for key, value in theirs.items():
            a, b = ours[key], value
            pairs = zip(a, b, strict=True) if isinstance(b, list) else [(a, b)]
            for x, y in pairs:
                worst = max(worst, abs(float(x) - float(y)))
    return worst


def measure(sizes: tuple[int, ...], repeats: int, peer_repeats: int, peer_repeats_large: int,
            peer_max_rows: int) -> dict[str, Any]:
    # No peer run (--peer-max-rows below every size): nothing to install.
    peer_info = install_peer() if peer_max_rows >= min(sizes) else dict.fromkeys(
        ("fairlearn", "scikit-learn", "pandas", "numpy", "python"), "not run"
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="steward-validation-bench-") as tmp:
        for rows in sizes:
            data_dir = Path(tmp) / str(rows)
            data_dir.mkdir()
            log(f"{rows:,} rows: generating data")
            write_data(rows, data_dir)
            log(f"{rows:,} rows: Steward ({repeats} runs after a warm-up)")
            steward = run_worker("steward", data_dir, repeats, warmup=True)
            extra = run_worker("steward", data_dir, repeats, warmup=True,
                               tasks=("fairness_intervals",))
            steward["fairness_intervals"] = extra["fairness_intervals"]
            log(f"{rows:,} rows: pandas groupby ({repeats} runs after a warm-up)")
            pandas_run = run_worker("pandas", data_dir, repeats, warmup=True, tasks=("fairness",))
            pandas_diff = compare(steward, pandas_run, tasks=("fairness",))
            if pandas_diff > TOLERANCE:
                raise BenchError(f"pandas groupby differs by {pandas_diff:g} at {rows:,} rows")
            variants: dict[str, Any] = {}
            for key, task in (("categorical", "fairness_categorical"), ("text", "fairness_text")):
                log(f"{rows:,} rows: both again on {key} group columns")
                coded = (task,)
                v_steward = run_worker("steward", data_dir, repeats, warmup=True, tasks=coded)
                v_pandas = run_worker("pandas", data_dir, repeats, warmup=True, tasks=coded)
                v_diff = max(
                    compare(v_steward, v_pandas, tasks=coded),
                    compare({task: steward["fairness"]}, v_steward, tasks=coded),
                )
                if v_diff > TOLERANCE:
                    raise BenchError(f"{key} runs differ by {v_diff:g} at {rows:,} rows")
                variants[key] = {"steward": v_steward[task], "pandas": v_pandas[task],
                                 "max_abs_difference": v_diff}
            peer = None
            if rows <= peer_max_rows:
                large = rows == max(sizes) and rows > min(sizes)
                n = peer_repeats_large if large else peer_repeats
                log(f"{rows:,} rows: Fairlearn/scikit-learn ({_runs(n)}"
                    f"{'' if large else ' after a warm-up'}; minutes at 10 M rows)")
                peer = run_worker("peer", data_dir, n, warmup=not large)
            entry: dict[str, Any] = {"rows": rows, "steward": steward, "peer": peer,
                                     "pandas": pandas_run,
                                     "pandas_max_abs_difference": pandas_diff, **variants}
            if peer is not None:
                entry["max_abs_difference"] = compare(steward, peer)
                if entry["max_abs_difference"] > TOLERANCE:
                    raise BenchError(f"results differ by {entry['max_abs_difference']:g} at "
                                     f"{rows:,} rows (tolerance {TOLERANCE:g})")
            runs.append(entry)
            log(_one_line(entry))
    return {
        "benchmark": "validation",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "peer": peer_info,
        "repeats": repeats,
        "peer_repeats": peer_repeats,
        "peer_repeats_large": peer_repeats_large,
        "runs": runs,
    }


def _one_line(entry: dict[str, Any]) -> str:
    s = entry["steward"]
    text = (f"{entry['rows']:,} rows: Steward fairness {s['fairness']['median_s']:.3f} s, "
            f"performance {s['performance']['median_s']:.3f} s")
    if entry.get("pandas"):
        text += (f"; pandas groupby {entry['pandas']['fairness']['median_s']:.3f} s "
                 f"(max |diff| {entry['pandas_max_abs_difference']:.1e})")
    if entry["peer"]:
        p = entry["peer"]
        text += (f"; Fairlearn {p['fairness']['median_s']:.2f} s, scikit-learn "
                 f"{p['performance']['median_s']:.2f} s; "
                 f"max |diff| {entry['max_abs_difference']:.1e}")
    return text


def _rows_label(rows: int) -> str:
    return f"{rows // 1_000_000} M" if rows % 1_000_000 == 0 else f"{rows // 1000} k"


def _fmt_s(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def _mib(v: float) -> str:
    return f"{v:,.0f} MiB" if v < 1024 else f"{v / 1024:.2f} GiB"


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def render(results: dict[str, Any]) -> str:
    peer = results["peer"]
    lines = [
        SECTION_TITLE,
        "",
        f"_Generated by `bench/validation.py` on {results['date']} on {results['machine']}. "
        f"Peers: Fairlearn {peer['fairlearn']} with scikit-learn {peer['scikit-learn']}, pandas "
        f"{peer['pandas']}, numpy {peer['numpy']} (Python {peer['python']}) in "
        "`bench/.venv-fairlearn`. Data: a binary classifier's score, label (30 % positive) and "
        "prediction `score >= 0.5`, two sensitive features (sex: 3 values, age band: 5) giving "
        "15 intersectional groups; group columns are Python strings in object arrays, as they "
        "come out of a DataFrame (and, in the rows that say so, pandas categoricals, coded "
        "before the clock starts, as a categorical-aware load gives them). Each engine runs in "
        "a fresh process on the same arrays; "
        f"Steward: median of {_runs(results['repeats'])} after a warm-up; peers: median of "
        f"{_runs(results['peer_repeats'])} after a warm-up "
        f"({_runs(results['peer_repeats_large'])}, no warm-up, at the largest size). Memory: "
        "peak RSS above the RSS with the data loaded._",
        "",
        "| rows | work | Steward | peak memory | peer | peer time | peer memory | ratio |",
        "|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    verdicts = []
    for entry in results["runs"]:
        rows, s, p = entry["rows"], entry["steward"], entry["peer"]
        label = _rows_label(rows)
        total_s = s["fairness"]["median_s"] + s["performance"]["median_s"]
        for task, what, peer_name in (
            ("fairness", "fairness: per-group table + all group metrics", "Fairlearn MetricFrame"
             " (4 metrics) + DPD + EOD"),
            ("performance", "performance: 8 metrics + reliability curve", "scikit-learn, 9 calls"),
        ):
            ours = s[task]
            if p is not None:
                theirs = p[task]
                ratio = theirs["median_s"] / ours["median_s"]
                peer_cells = (f"{peer_name} | {_fmt_s(theirs['median_s'])} s | "
                              f"{_mib(theirs['peak_above_loaded_mib'])} | {ratio:,.0f}{TIMES}")
            else:
                peer_cells = f"{peer_name} | not run | | "
            lines.append(f"| {label} | {what} | {_fmt_s(ours['median_s'])} s | "
                         f"{_mib(ours['peak_above_loaded_mib'])} | {peer_cells} |")
            if task == "fairness" and "fairness_intervals" in s:
                with_ci = s["fairness_intervals"]["median_s"]
                added = max(0.0, with_ci - ours["median_s"])  # medians: noise can go below 0
                lines.append(
                    f"| {label} | fairness + 1 000-replicate bootstrap intervals on every metric "
                    f"| {_fmt_s(with_ci)} s | "
                    f"{_mib(s['fairness_intervals']['peak_above_loaded_mib'])} | "
                    f"(intervals add {added:.3f} s) | | | |")
                if rows >= 10_000_000:
                    verdicts.append(
                        f"- Fairness intervals at {label} rows add {added:.3f} s (target ≤ "
                        f"{TARGET_INTERVALS_S:.0f} s: "
                        f"{'met' if added <= TARGET_INTERVALS_S else '**unmet**'}).")
            if task == "fairness" and entry.get("pandas"):
                theirs = entry["pandas"]["fairness"]
                ratio = theirs["median_s"] / ours["median_s"]
                lines.append(
                    f"| {label} | {what} | {_fmt_s(ours['median_s'])} s | "
                    f"{_mib(ours['peak_above_loaded_mib'])} | pandas groupby (DPD, DPR, EOD, EOR "
                    f"+ 4 per-group rates) | {_fmt_s(theirs['median_s'])} s | "
                    f"{_mib(theirs['peak_above_loaded_mib'])} | {ratio:,.1f}{TIMES} |")
                for key, as_what in (("categorical", "pandas categoricals"),
                                     ("text", "pandas `str` (Arrow) columns")):
                    cat = entry.get(key)
                    if not cat:
                        continue
                    c_ours, c_theirs = cat["steward"], cat["pandas"]
                    c_ratio = c_theirs["median_s"] / c_ours["median_s"]
                    lines.append(
                        f"| {label} | fairness, group columns as {as_what} | "
                        f"{_fmt_s(c_ours['median_s'])} s | "
                        f"{_mib(c_ours['peak_above_loaded_mib'])} | pandas groupby on the same "
                        f"columns | {_fmt_s(c_theirs['median_s'])} s | "
                        f"{_mib(c_theirs['peak_above_loaded_mib'])} | {c_ratio:,.1f}{TIMES} |")
                    if rows >= 1_000_000:
                        verdicts.append(
                            f"- Fairness at {label} rows on group columns as {as_what}: "
                            f"{c_ratio:,.1f}{TIMES} pandas groupby on the same columns, numbers "
                            f"equal to {cat['max_abs_difference']:.1e} (target ≥ "
                            f"{TARGET_PANDAS_RATIO:.0f}{TIMES}: "
                            f"{'met' if c_ratio >= TARGET_PANDAS_RATIO else '**unmet**'}).")
                if rows >= 1_000_000:
                    verdicts.append(
                        f"- Fairness at {label} rows: {ratio:,.1f}{TIMES} pandas groupby, "
                        f"numbers equal to {entry['pandas_max_abs_difference']:.1e} (target ≥ "
                        f"{TARGET_PANDAS_RATIO:.0f}{TIMES}: "
                        f"{'met' if ratio >= TARGET_PANDAS_RATIO else '**unmet**'})."
                    )
        if p is not None and rows == 1_000_000:
            ratio = p["fairness"]["median_s"] / s["fairness"]["median_s"]
            verdicts.append(
                f"- Fairness at 1 M rows: {ratio:,.0f}{TIMES} Fairlearn (target ≥ "
                f"{TARGET_RATIO:.0f}{TIMES}: "
                f"{'met' if ratio >= TARGET_RATIO else '**unmet**'})."
            )
        if rows == 10_000_000:
            peak = max(s["fairness"]["peak_above_loaded_mib"],
                       s["performance"]["peak_above_loaded_mib"]) / 1024
            ok = total_s <= TARGET_LARGE_S and peak <= TARGET_LARGE_GIB
            verdicts.append(
                f"- 10 M rows, fairness + performance: {total_s:.2f} s, peak {peak:.2f} GiB "
                f"above the data (target ≤ {TARGET_LARGE_S:.0f} s and ≤ {TARGET_LARGE_GIB:.0f} "
                f"GiB: {'met' if ok else '**unmet**'})."
            )
        if "max_abs_difference" in entry:
            verdicts.append(
                f"- {label} rows: every number both sides compute (DPD, EOD, "
                f"15 {TIMES} 4 per-group rates, 8 performance metrics, the reliability curve) "
                f"agrees to {entry['max_abs_difference']:.1e} (tolerance {TOLERANCE:g})."
            )
    load = [f"{e['steward']['loadavg_before']:.1f}" for e in results["runs"]]
    lines += [
        "",
        *verdicts,
        f"- The 2 CPUs were shared with other work during the run (1-minute load average "
        f"before each Steward measurement: {', '.join(load)}), so absolute times are noisy "
        "and conservative; ratios come from the same run.",
        "",
        "Why the gap: Steward codes the rows by group once (`pandas.factorize` on string group "
        "columns; categorical columns' own codes, not factorised again) and gets every "
        "per-group confusion count from a single `np.bincount`; all "
        f"rates and aggregates are arithmetic on a 15 {TIMES} 4 table. Fairlearn's `MetricFrame` "
        "groups a DataFrame and calls each scikit-learn metric per group, and each of "
        "`demographic_parity_difference` / `equalized_odds_difference` builds a new "
        "`MetricFrame`. The performance metrics share one sort of the scores instead of "
        "sorting per metric.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100 k and 1 M rows; no BENCHMARKS.md")
    ap.add_argument("--sizes", help="comma-separated row counts (default 1000000,10000000)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peer-repeats", type=int, default=3)
    ap.add_argument("--peer-repeats-large", type=int, default=1)
    ap.add_argument("--peer-max-rows", type=int, default=10_000_000,
                    help="skip the peers above this many rows")
    ap.add_argument("--write-md", dest="write_md", action="store_true", default=None)
    ap.add_argument("--no-write-md", dest="write_md", action="store_false")
    ap.add_argument("--render", type=Path, help="print the report of an earlier results file")
    ap.add_argument("--worker", choices=("steward", "pandas", "peer"), help=argparse.SUPPRESS)
    ap.add_argument("--task", choices=("fairness", "performance", "fairness_intervals",
                                       "fairness_categorical", "fairness_text"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        worker(args.worker, args.task, args.data, args.repeats, args.warmup)
        return 0
    if args.render:
        results = json.loads(args.render.read_text())
    else:
        if args.sizes:
            sizes = tuple(int(s) for s in args.sizes.split(","))
        else:
            sizes = QUICK_SIZES if args.quick else FULL_SIZES
        try:
            results = measure(sizes, args.repeats, args.peer_repeats, args.peer_repeats_large,
                              args.peer_max_rows)
        except BenchError as exc:
            log(f"failed: {exc}")
            return 1
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
        path = RESULTS_DIR / f"validation-{stamp}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        log(f"results in {path.relative_to(REPO)}")
    section = render(results)
    print(section)
    write_md = args.write_md if args.write_md is not None else not (args.quick or args.render
                                                                    or args.sizes)
    if write_md:
        replace_section(SECTION_TITLE, section)
        log("updated the Validation section of BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
