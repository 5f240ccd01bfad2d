"""The data lineage graph, queryable both ways (docs/datasets.md): from a dataset to the
model versions built on its versions and their deployments, and from a model version back
to the dataset versions, datasets and sources it was trained and evaluated on."""

from __future__ import annotations

from steward.domain.datasets import parse_ref
from steward.domain.lineage_graph import LineageGraph, add_dataset, add_use
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context, version_row_id
from steward.services.datasets import dataset_row, impact_in_uow, lineage_in_uow

MAX_VERSIONS = 20  # the newest dataset versions a dataset's graph draws


def from_dataset(ctx: Context, principal: Principal, name: str) -> LineageGraph:
    """Source → dataset → its newest versions → model versions → deployments."""
    ensure(principal, Permission.GOVERNANCE_READ)
    graph = LineageGraph()
    with ctx.uow.read() as uow:
        row = dataset_row(uow, name)
        node = add_dataset(graph, name, str(row["source"] or ""))
        newest = int(row["latest_version"])
        for version in range(newest, max(0, newest - MAX_VERSIONS), -1):
            if uow.datasets.content_of_snapshot(row["id"], version) is None:
                continue
            ref = f"{name}@{version}"
            graph.add("dataset_version", ref)
            graph.link(node, f"dataset_version:{ref}")
            for used in impact_in_uow(uow, name, version).models:
                add_use(graph, ref, node, used.model, used.version, used.role, used.deployments)
    return graph


def from_model_version(
    ctx: Context, principal: Principal, model: str, version: int
) -> LineageGraph:
    """The model version's registered dataset versions, their datasets and sources, and
    where the version runs."""
    ensure(principal, Permission.GOVERNANCE_READ)
    graph = LineageGraph()
    with ctx.uow.read() as uow:
        found = lineage_in_uow(uow, model, version)
        _, vid = version_row_id(uow, model, version)
        deployments: list[str] = []
        for content in (
            uow.versions.row_by_id(vid)["training_dataset_id"],
            uow.versions.row_by_id(vid)["evaluation_dataset_id"],
        ):
            if content is not None and not deployments:
                deployments = next(
                    (
                        u.deployments
                        for u in uow.datasets.built_on(content)
                        if (u.model, u.version) == (model, version)
                    ),
                    [],
                )
        graph.add("model_version", f"{model} v{version}", f"/models/{model}?version={version}")
        for role, refs in (("training", found.training), ("evaluation", found.evaluation)):
            for ref in refs:
                name, _ = parse_ref(ref)
                node = add_dataset(graph, name, str(dataset_row(uow, name)["source"] or ""))
                add_use(graph, ref, node, model, version, role, deployments)
    return graph
