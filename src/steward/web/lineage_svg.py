"""The data lineage graph drawn on the server as SVG: one column per kind (source, dataset,
dataset version, model version, deployment), a box per node, a line per edge. No script, no
external asset: it passes the page's Content-Security-Policy and reads without JavaScript."""

from __future__ import annotations

from markupsafe import Markup, escape

from steward.domain.lineage_graph import KINDS, LineageGraph

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 170, 30, 40, 12, 10
MAX_LABEL = 26


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def render(graph: LineageGraph, title: str, headings: dict[str, str]) -> Markup:
    """``headings``: each kind's column title in the page's language."""
    columns = [graph.of_kind(kind) for kind in KINDS]
    rows = max([len(c) for c in columns] + [1])
    width = PAD * 2 + len(KINDS) * BOX_W + (len(KINDS) - 1) * GAP_X
    height = PAD * 2 + 24 + rows * (BOX_H + GAP_Y)
    where: dict[str, tuple[int, int]] = {}
    parts: list[str] = []
    for col, (kind, nodes) in enumerate(zip(KINDS, columns, strict=True)):
        x = PAD + col * (BOX_W + GAP_X)
        head = escape(headings.get(kind, kind))
        parts.append(f'<text x="{x}" y="{PAD + 12}" class="lg-head">{head}</text>')
        for row, node in enumerate(nodes):
            y = PAD + 24 + row * (BOX_H + GAP_Y)
            where[node.id] = (x, y)
            box = (
                f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" '
                f'class="lg-node lg-{kind}"/><text x="{x + 8}" y="{y + 19}">'
                f"<title>{escape(node.label)}</title>{escape(_short(node.label))}</text>"
            )
            if node.href:
                box = f'<a href="{escape(node.href)}">{box}</a>'
            parts.append(box)
    lines = []
    for edge in graph.edges:
        if edge.source not in where or edge.target not in where:
            continue
        (x1, y1), (x2, y2) = where[edge.source], where[edge.target]
        lines.append(
            f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H // 2}" x2="{x2}" y2="{y2 + BOX_H // 2}" '
            f'class="lg-edge lg-{escape(edge.label or "flow")}"><title>{escape(edge.label)}'
            "</title></line>"
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage-graph" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}">' + "".join(lines) + "".join(parts) + "</svg>"
    )
