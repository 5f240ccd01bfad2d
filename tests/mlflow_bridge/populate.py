"""Populate an MLflow tracking server the way users do, with whichever MLflow client runs it.

Imported by the tests (Steward's venv has an MLflow 3 client) and also run as a script by
another virtualenv's python — ``python populate.py <tracking URL>`` prints the run ids it
logged as JSON — so an MLflow 2.x server is filled by the 2.x client, as its users do.
It imports neither Steward nor the tests for that reason.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def train(seed: int) -> tuple[Any, Any, Any]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"income": rng.normal(50, 10, 60), "debt": rng.normal(10, 3, 60)})
    target = (frame.income - 2 * frame.debt + rng.normal(0, 5, 60) > 30).astype(int)
    model = LogisticRegression(C=1.0 + seed).fit(frame, target)
    return model, frame, target


def log_version(
    url: str,
    registered: str,
    seed: int,
    *,
    git_commit: str | None = None,
    version_tags: dict[str, str] | None = None,
) -> tuple[str, int]:
    """One training run logged as users do: params, metrics, a dataset, an sklearn model."""
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    mlflow.set_experiment("steward-bridge-tests")
    model, frame, target = train(seed)
    # MLflow 3 names a logged model (name=, stored as models:/m-…); MLflow 2 puts it under
    # the run's artifacts (artifact_path=, source runs:/… or mlflow-artifacts:/…).
    where = "name" if int(mlflow.__version__.split(".")[0]) >= 3 else "artifact_path"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run() as run:
            mlflow.log_params({"C": 1.0 + seed, "solver": "lbfgs"})
            mlflow.log_metric("roc_auc", 0.8 + seed / 100)
            mlflow.log_metric("val loss", 0.3)  # not a valid Steward key: mapped to val_loss
            if git_commit:
                mlflow.set_tag("mlflow.source.git.commit", git_commit)
            dataset = mlflow.data.from_pandas(
                frame.assign(default=target), name="loans-train", targets="default"
            )
            mlflow.log_input(dataset, context="training")
            info = mlflow.sklearn.log_model(
                model,
                signature=mlflow.models.infer_signature(frame, target),
                pip_requirements=["scikit-learn"],
                **{where: "model"},
            )
        registered_version = mlflow.register_model(info.model_uri, registered, tags=version_tags)
    return run.info.run_id, int(registered_version.version)


def populate(url: str) -> dict[str, str]:
    """Two registered models as a team would have them; returns ``"name/version": run id``.

    'Credit Scoring' (not a Steward slug): v1 Production with alias champion, v2 Staging
    with alias challenger and a version tag; 'fraud-detector': v1 with no stage.
    """
    import mlflow

    run_ids = {}
    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    client.create_registered_model(
        "Credit Scoring", tags={"team": "retail"}, description="Approve consumer loans"
    )
    for seed, tags in ((1, None), (2, {"validated_by": "qa team"})):
        run_id, number = log_version(
            url, "Credit Scoring", seed, git_commit=GIT_COMMIT, version_tags=tags
        )
        run_ids[f"Credit Scoring/{number}"] = run_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage("Credit Scoring", "1", "Production")
        client.transition_model_version_stage("Credit Scoring", "2", "Staging")
    client.set_registered_model_alias("Credit Scoring", "champion", "1")
    client.set_registered_model_alias("Credit Scoring", "challenger", "2")
    run_id, number = log_version(url, "fraud-detector", 3)
    run_ids[f"fraud-detector/{number}"] = run_id
    return run_ids


if __name__ == "__main__":
    print(json.dumps({"mlflow": __import__("mlflow").__version__, "runs": populate(sys.argv[1])}))
