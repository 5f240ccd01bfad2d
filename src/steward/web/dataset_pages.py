"""Datasets in the web UI: the data inventory and a dataset's page — classification and
legal basis, versions with their quality verdicts and approvals, the latest version's rule
results, open findings, and the model versions built on each version (lineage).

Read-only: every value comes from ``services/datasets.py``, which checks
``governance:read``; changes are made with the CLI, SDK or REST (docs/datasets.md).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from steward.api.headers import DOCUMENT_CSP
from steward.domain.datasets import Classification
from steward.domain.errors import Forbidden, InvalidInput, StewardError
from steward.domain.lineage_graph import LineageGraph
from steward.services import data_discovery, data_lineage, dataset_cards, datasets, personal_data
from steward.web import i18n, lineage_svg
from steward.web.pages import Page, _page

router = APIRouter(include_in_schema=False)
LINEAGE_VERSIONS = 20  # the newest versions whose lineage the page lists


@router.get("/datasets")
async def inventory(request: Request, classification: str = "") -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        error = None
        try:
            found = datasets.list_datasets(
                page.ctx, page.principal, classification=classification or None, limit=1000
            )
        except InvalidInput as bad:
            error = str(bad)
            found = datasets.list_datasets(page.ctx, page.principal, limit=1000)
        return page.render(
            "datasets.html",
            rows=found.items,
            classifications=[c.value for c in Classification],
            chosen=classification,
            error=error,
        )

    return await _page(request, build)


@router.get("/datasets/discover")
async def discover(request: Request, connection: str = "") -> Response:
    """Silo discovery: what a connection holds that no dataset covers (the service checks
    ``dataset:approve`` and the connection's roles and teams)."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        found, error = None, None
        if connection.strip():
            try:
                found = data_discovery.discover(page.ctx, page.principal, connection)
            except Forbidden:
                raise
            except StewardError as bad:
                error = str(bad)
        return page.render("dataset_discover.html", found=found, chosen=connection, error=error)

    return await _page(request, build)


@router.get("/datasets/{name}")
async def dataset(request: Request, name: str) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        found = datasets.get_dataset(page.ctx, page.principal, name)
        versions = datasets.versions(page.ctx, page.principal, name)
        latest = (
            datasets.get_version(page.ctx, page.principal, f"{name}@{versions[0].version}")
            if versions
            else None
        )
        lineage = [
            datasets.impact(page.ctx, page.principal, v.ref) for v in versions[:LINEAGE_VERSIONS]
        ]
        return page.render(
            "dataset.html",
            d=found,
            versions=versions,
            latest=latest,
            lineage=[i for i in lineage if i.models],
            findings=[
                f for f in datasets.findings(page.ctx, page.principal, name) if f.status == "open"
            ],
            rules=datasets.rule_sets(page.ctx, page.principal, name)[:1],
            personal=personal_data.classification(page.ctx, page.principal, latest.ref)
            if latest
            else None,
            graph=lineage_figure(page, data_lineage.from_dataset(page.ctx, page.principal, name)),
        )

    return await _page(request, build)


@router.get("/datasets/{name}/card")
async def card(request: Request, name: str, format: str = "html") -> Response:
    """The dataset card, as the model card page serves its card: inline HTML or Markdown,
    PDF as a download; a self-contained document that may style but never script."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            rendered = dataset_cards.render(
                page.ctx, page.principal, name, format, translate=page.gettext, lang=page.lang
            )
        except InvalidInput as bad:
            return page.refusal(bad, f"/datasets/{quote(name)}")
        disposition = "attachment" if format == "pdf" else "inline"
        return Response(
            rendered.content,
            media_type=rendered.media_type,
            headers={
                "content-disposition": f'{disposition}; filename="{rendered.filename}"',
                "content-security-policy": DOCUMENT_CSP,
            },
        )

    return await _page(request, build)


LINEAGE_HEADINGS = {
    "source": i18n.N_("Source"),
    "dataset": i18n.N_("Dataset"),
    "dataset_version": i18n.N_("Dataset version"),
    "model_version": i18n.N_("Model version"),
    "deployment": i18n.N_("Deployment"),
}


def lineage_figure(page: Page, graph: LineageGraph) -> Markup | None:
    """The graph as SVG in the page's language; nothing when only one node is known."""
    if len(graph.nodes) < 2:
        return None
    headings = {k: page.gettext(v) for k, v in LINEAGE_HEADINGS.items()}
    return lineage_svg.render(graph, page.gettext("Data lineage graph"), headings)
