"""The data lineage graph: source → dataset → dataset version → model version → deployment.

Pure: the services gather the rows (both ways: from a dataset, or from a model version) and
these functions turn them into nodes and edges; the web UI draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Columns left to right, in the order data flows.
KINDS = ("source", "dataset", "dataset_version", "model_version", "deployment")


@dataclass(frozen=True)
class LineageNode:
    id: str  # kind:label, unique in the graph
    kind: str  # one of KINDS
    label: str
    href: str | None = None  # the page that shows it


@dataclass(frozen=True)
class LineageEdge:
    source: str
    target: str
    label: str = ""  # training | evaluation between a dataset version and a model version


@dataclass
class LineageGraph:
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[LineageEdge] = field(default_factory=list)

    def add(self, kind: str, label: str, href: str | None = None) -> str:
        node_id = f"{kind}:{label}"
        if all(n.id != node_id for n in self.nodes):
            self.nodes.append(LineageNode(node_id, kind, label, href))
        return node_id

    def link(self, source: str, target: str, label: str = "") -> None:
        edge = LineageEdge(source, target, label)
        if edge not in self.edges:
            self.edges.append(edge)

    def of_kind(self, kind: str) -> list[LineageNode]:
        return [n for n in self.nodes if n.kind == kind]


def add_dataset(graph: LineageGraph, name: str, source: str) -> str:
    """The dataset and, when it records one, its source; returns the dataset's node."""
    node = graph.add("dataset", name, f"/datasets/{name}")
    if source:
        graph.link(graph.add("source", source), node)
    return node


def add_use(
    graph: LineageGraph,
    dataset_ref: str,
    dataset_node: str,
    model: str,
    version: int,
    role: str,
    deployments: list[str],
) -> None:
    """A dataset version, the model version built on it, and where that version runs."""
    snapshot = graph.add("dataset_version", dataset_ref, None)
    graph.link(dataset_node, snapshot)
    built = graph.add("model_version", f"{model} v{version}", f"/models/{model}?version={version}")
    graph.link(snapshot, built, role)
    for where in deployments:
        graph.link(built, graph.add("deployment", f"{model}: {where}"))
