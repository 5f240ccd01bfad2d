"""Validation and monitoring charts on the model page, on the real demo store.

The numbers behind the charts are the stored check results: the ROC points kept with
``performance.roc_auc`` are scikit-learn's ``roc_curve`` (thinned to at most 200 points on
large data) and the reliability bins of ``performance.calibration_error`` are
``calibration_curve``'s, within the 1e-9 the metrics reference holds Steward's numbers to.
The page embeds one Vega-Lite spec per chart with its title and axes translated, a summary
and the numbers as tables; Chromium renders every chart as SVG with no console error.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.calibration import calibration_curve
from sklearn.metrics import auc, roc_auc_score, roc_curve
from tests.conftest import LiveServer
from tests.web.test_web_pages import sign_in
from tests.web.webutil import PASSWORD, demo_context

from steward.api.app import create_app
from steward.demo.credit import TARGET, train_credit_model
from steward.domain.checks import CheckRun
from steward.domain.permissions import OPERATOR, Principal
from steward.services import checks
from steward.validation import runner
from steward.validation.options import Predictions
from steward.validation.suites import parse_suite

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("STEWARD_TEST_ARTIFACTS", "test-artifacts/ui"))
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
TOL = 1e-9  # Steward's metrics equal scikit-learn's to 1e-9 (metrics-reference.md)
CHARTS = ("roc-chart", "calibration-chart", "importance-chart", "robustness-chart")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_context(tmp_path_factory.mktemp("demo")) as ctx, LiveServer(ctx) as live:
        live.ctx = ctx  # type: ignore[attr-defined]
        yield live


def _run(server: LiveServer, version: int) -> CheckRun:
    ctx = server.ctx  # type: ignore[attr-defined]
    return checks.list_runs(ctx, OP, "credit-scoring", version, limit=1)[0]


def _specs(html: str) -> dict[str, Any]:
    found = re.findall(
        r'<script type="application/json" data-chart-for="([^"]+)">(.*?)</script>', html, re.S
    )
    return {target: json.loads(text) for target, text in found}


def test_stored_roc_and_calibration_are_scikit_learns(server: LiveServer) -> None:
    # The demo validated credit-scoring v3 (gradient boosting, seed 42) on the holdout.
    trained = train_credit_model(seed=42, model_kind="gbm")
    x, y = trained.test[trained.feature_columns], trained.test[TARGET].to_numpy()
    score = trained.model.predict_proba(x)[:, list(trained.model.classes_).index(1)]
    run = _run(server, 3)

    roc = run.result("performance.roc_auc")
    assert roc.value == pytest.approx(roc_auc_score(y, score), abs=TOL)
    stored = roc.details["roc_curve"]
    fpr, tpr, thresholds = roc_curve(y, score)
    assert len(fpr) <= 200 and stored["thinned"] is False and stored["points"] == len(fpr)
    np.testing.assert_allclose(stored["fpr"], fpr, atol=TOL, rtol=0)
    np.testing.assert_allclose(stored["tpr"], tpr, atol=TOL, rtol=0)
    assert stored["thresholds"][0] is None and np.isinf(thresholds[0])  # sklearn's inf
    np.testing.assert_allclose(stored["thresholds"][1:], thresholds[1:], atol=TOL, rtol=0)

    cal = run.result("performance.calibration_error")
    prob_true, prob_pred = calibration_curve(y, score, n_bins=cal.details["n_bins"])
    bins = cal.details["bins"]
    np.testing.assert_allclose([b["observed_rate"] for b in bins], prob_true, atol=TOL, rtol=0)
    np.testing.assert_allclose([b["mean_predicted"] for b in bins], prob_pred, atol=TOL, rtol=0)
    edges = np.linspace(0.0, 1.0, cal.details["n_bins"] + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], score), minlength=len(edges) - 1)
    assert [b["count"] for b in bins] == [float(c) for c in counts[counts > 0]]
    assert sum(b["count"] for b in bins) == len(y)

    # Robustness names the metric its drops are measured in.
    assert run.result("robustness.numeric_noise").details["metric"] == "roc_auc"
    assert run.result("robustness.categorical_flip").details["metric"] == "roc_auc"


def test_a_long_roc_curve_is_thinned_to_points_of_scikit_learns_curve() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    y = rng.integers(0, 2, size=n)
    score = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0.0, 1.0).round(6)
    frame = pd.DataFrame({"y": y, "p": (score >= 0.5).astype(int), "s": score})
    suite = parse_suite(
        "suite: t\nversion: '1'\ntask: classification\nchecks:\n  - check: performance.roc_auc\n",
        "t.yaml",
    )
    out = runner.run_suite(
        suite,
        runner.RunInputs(data=frame, predictions=Predictions(y_true="y", y_pred="p", y_score="s")),
    )
    kept = out.result("performance.roc_auc").details["roc_curve"]
    fpr, tpr, thresholds = roc_curve(y, score)
    assert kept["points"] == len(fpr) > 1000 and kept["thinned"] is True
    assert 150 <= len(kept["fpr"]) <= 200
    # Every kept point is one of sklearn's, in order, from (0, 0) to (1, 1).
    where = np.searchsorted(-thresholds[1:], -np.asarray(kept["thresholds"][1:], dtype=float))
    np.testing.assert_allclose(np.asarray(kept["thresholds"][1:]), thresholds[1:][where], atol=0)
    np.testing.assert_allclose(kept["fpr"][1:], fpr[1:][where], atol=TOL, rtol=0)
    np.testing.assert_allclose(kept["tpr"][1:], tpr[1:][where], atol=TOL, rtol=0)
    assert (kept["fpr"][0], kept["tpr"][0]) == (0.0, 0.0)
    assert (kept["fpr"][-1], kept["tpr"][-1]) == (1.0, 1.0)
    # The polyline through the kept points stays within 0.01 of the full curve and its area
    # within 0.001 of the AUC.
    assert auc(kept["fpr"], kept["tpr"]) == pytest.approx(roc_auc_score(y, score), abs=1e-3)
    between = np.interp(fpr, kept["fpr"], kept["tpr"])
    assert float(np.max(np.abs(between - tpr))) < 0.01


def test_model_page_embeds_the_charts_with_tables_and_translations(server: LiveServer) -> None:
    ctx = server.ctx  # type: ignore[attr-defined]
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "rita", PASSWORD)
        html = web.get("/models/credit-scoring?version=3").text
        specs = _specs(html)
        for target in CHARTS:
            assert target in specs, target
            # Vega marks its own container as a graphics document and drops its aria-label,
            # so the summary sits on a frame around it that screen readers read as an image.
            assert re.search(
                rf'<div class="chart-frame" role="img" aria-label="[^"]+"><div id="{target}"', html
            ), target
        roc = specs["roc-chart"]
        assert roc["title"] == "ROC curve"
        curve = roc["layer"][1]
        assert curve["encoding"]["x"]["title"] == "False positive rate"
        stored = _run(server, 3).result("performance.roc_auc").details["roc_curve"]
        assert [v["fpr"] for v in curve["data"]["values"]] == stored["fpr"]
        assert roc["layer"][0]["mark"]["strokeDash"]  # the chance diagonal
        # Robustness: each check's threshold (the suite's 0.05 for noise and flips, the
        # default 0.1 for missing values) as a dashed tick on its bars.
        bars, ticks = specs["robustness-chart"]["layer"]
        assert {v["check"]: v["limit"] for v in ticks["data"]["values"]} == {
            "robustness.numeric_noise": 0.05,
            "robustness.categorical_flip": 0.05,
            "robustness.missing_injection": 0.1,
        }
        assert ticks["mark"]["type"] == "tick" and ticks["mark"]["strokeDash"]
        assert len(bars["data"]["values"]) == 5  # three noise levels, flips, missing values
        assert "Drop in roc_auc" in json.dumps(specs["robustness-chart"])
        # Screen readers get the numbers as tables.
        for caption in (
            "Best true positive rate at a false positive rate of at most",
            "Observed positive rate per score bin",
            "Permutation importance",
            "Robustness",
        ):
            assert f"<caption>{caption}</caption>" in html
        assert "status_of_existing_checking_account" in html
        # Monitoring: labelled performance of the champion's monitor, its accuracy rule dashed.
        perf = next(v for k, v in specs.items() if k.startswith("perf-chart-"))
        lines, rules = perf["layer"][:2]
        assert {v["metric"] for v in lines["data"]["values"]} >= {"accuracy", "roc_auc"}
        assert [r["limit"] for r in rules["data"]["values"]] == [0.65]
        assert "<caption>Performance by window</caption>" in html
        # The monitoring page shows the same performance chart beside the drift history,
        # each summary on a wrapper that vega-embed leaves alone.
        monitoring_page = web.get("/models/credit-scoring/monitoring").text
        assert any(k.startswith("perf-chart-") for k in _specs(monitoring_page))
        assert monitoring_page.count('class="chart-frame" role="img" aria-label=') >= 2

        web.get("/lang/zh-TW?next=/")
        zh = web.get("/models/credit-scoring?version=3").text
        zh_specs = _specs(zh)
        assert zh_specs["roc-chart"]["title"] == "ROC 曲線"
        assert zh_specs["calibration-chart"]["layer"][1]["encoding"]["x"]["title"] == "平均預測機率"
        assert zh_specs["importance-chart"]["title"] == "置換重要性"
        assert "<caption>依時間窗的效能</caption>" in zh


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_charts_render_in_chromium_without_console_errors(server: LiveServer) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            # No request leaves the machine: the vega assets are served by Steward itself.
            outside: list[str] = []
            page.on(
                "request",
                lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None,
            )
            page.goto(f"{server.url}/login")
            page.fill("#username", "rita")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/")
            page.goto(f"{server.url}/models/credit-scoring?version=3")
            for target in ("fairness-chart", *CHARTS):
                page.wait_for_selector(f"#{target} svg")
                # a drawn chart: marks inside the SVG, no error text instead of it
                assert page.locator(f"#{target} svg path").count() > 0, target
            page.wait_for_selector("[id^=perf-chart-] svg")
            roc = page.locator(".chart-frame:has(#roc-chart)")
            assert roc.get_attribute("role") == "img"
            assert "area under the curve" in (roc.get_attribute("aria-label") or "")
            assert "ROC curve" in page.locator("#roc-chart svg").inner_html()  # its title
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.locator("#validation-charts").screenshot(
                path=str(ARTIFACTS / "20-validation-charts.png")
            )
            assert errors == [], f"browser console errors: {errors}"
            assert outside == [], f"requests left the server: {outside}"
            context.close()
        finally:
            browser.close()
