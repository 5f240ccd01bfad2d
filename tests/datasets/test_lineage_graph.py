"""The data lineage graph both ways (SQLite and PostgreSQL): from a dataset to the model
versions built on its versions and their deployments, and from a model version back to its
datasets and sources; drawn as SVG with every label escaped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from steward.domain.errors import NotFound
from steward.domain.lineage_graph import LineageGraph
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets as lineage
from steward.services import data_lineage, data_quality, datasets, deployments, models, versions
from steward.services.context import Context
from steward.web import lineage_svg

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
FRAME = pd.DataFrame({"id": [1, 2, 3, 4], "amount": [10.0, 20.0, 30.0, 40.0]})


def edges(graph: LineageGraph) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.label) for e in graph.edges}


def test_the_graph_is_the_same_read_from_either_end(ctx: Context, tmp_path: Path) -> None:
    datasets.create_dataset(ctx, ADMIN, "loans", source="s3://lake/loans.parquet")
    data_quality.snapshot(ctx, ADMIN, "loans", FRAME)
    data_quality.snapshot(ctx, ADMIN, "loans", FRAME.head(2))
    models.create_model(ctx, ADMIN, "credit", owner="olive")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    spec = VersionSpec(
        training_data=lineage.describe(FRAME, name="t"),
        evaluation_data=lineage.describe(FRAME.head(2), name="e"),
    )
    made = versions.create_version(ctx, ADMIN, "credit", spec, artifact)
    deployments.record_deployment(
        ctx, ADMIN, "credit", environment="prod", sha256=made.artifact.sha256, version=1
    )
    down = data_lineage.from_dataset(ctx, ADMIN, "loans")
    assert [n.id for n in down.of_kind("dataset_version")] == [
        "dataset_version:loans@2",
        "dataset_version:loans@1",
    ]
    expected = {
        ("source:s3://lake/loans.parquet", "dataset:loans", ""),
        ("dataset:loans", "dataset_version:loans@1", ""),
        ("dataset:loans", "dataset_version:loans@2", ""),
        ("dataset_version:loans@1", "model_version:credit v1", "training"),
        ("dataset_version:loans@2", "model_version:credit v1", "evaluation"),
    }
    assert expected <= edges(down)
    deployed = [e for e in edges(down) if e[1].startswith("deployment:")]
    assert deployed and deployed[0][0] == "model_version:credit v1"
    assert deployed[0][1].startswith("deployment:credit: prod")
    up = data_lineage.from_model_version(ctx, ADMIN, "credit", 1)
    assert edges(up) == edges(down)  # every dataset version of loans is used by v1
    with pytest.raises(NotFound):
        data_lineage.from_dataset(ctx, ADMIN, "ghost")
    with pytest.raises(NotFound):
        data_lineage.from_model_version(ctx, ADMIN, "credit", 9)


def test_the_svg_escapes_every_label() -> None:
    graph = LineageGraph()
    node = graph.add("dataset", "loans", "/datasets/loans")
    graph.link(graph.add("source", '<script>alert(1)</script>"'), node)
    drawn = str(lineage_svg.render(graph, 'a "title"', {"source": "<b>Source</b>"}))
    assert "<script>" not in drawn and "<b>" not in drawn
    assert "&lt;script&gt;" in drawn and 'aria-label="a &#34;title&#34;"' in drawn
    assert drawn.count("<rect") == 2 and drawn.count("<line") == 1
    assert '<a href="/datasets/loans">' in drawn
