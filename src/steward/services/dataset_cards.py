"""The dataset card: gathered in one read transaction (a consistent snapshot) from the
dataset, personal-data and lineage services, built and rendered by
:mod:`steward.compliance.datacard` with the model card's machinery."""

from __future__ import annotations

from collections.abc import Callable

from steward.compliance import datacard
from steward.compliance.datacard import DatasetCard, DatasetCardEvidence
from steward.compliance.modelcard import RenderedCard
from steward.domain.errors import NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import datasets, personal_data
from steward.services.context import Context
from steward.services.data_lineage import MAX_VERSIONS

# What a user can do when PDF output is unavailable, named as the commands spell it.
PDF_INSTEAD = (
    "choose another format (`steward dataset card NAME --format html` or `--format md`; "
    "format=html in the SDK and REST API)"
)


def dataset_card(ctx: Context, principal: Principal, name: str) -> DatasetCard:
    """The card of a dataset; whoever may read the dataset may read its card."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        row = datasets.dataset_row(uow, name)
        found = uow.datasets.get(name)
        if found is None:
            raise datasets.not_found(name)
        snapshots = uow.datasets.snapshots(row["id"], details=False)
        if snapshots:  # the newest version with its rule results (samples stored masked)
            snapshots[0] = uow.datasets.snapshots(row["id"], snapshots[0].version)[0]
        personal = None
        impacts = []
        for snap in snapshots[:MAX_VERSIONS]:
            try:
                impacts.append(datasets.impact_in_uow(uow, name, snap.version))
            except NotFound:  # a version whose content was purged has no lineage left
                continue
        if snapshots:
            personal = personal_data.classification_in_uow(uow, snapshots[0].ref)
        evidence = DatasetCardEvidence(
            dataset=found,
            versions=snapshots,
            personal=personal,
            impacts=impacts,
            generated_at=uow.now,
            generated_by=principal.name,
        )
    return datacard.build(evidence)


def render(
    ctx: Context,
    principal: Principal,
    name: str,
    fmt: str,
    translate: Callable[[str], str] | None = None,
    lang: str = "en",
) -> RenderedCard:
    """The card as Markdown, self-contained HTML or PDF bytes."""
    fmt = datacard.check_format(fmt)  # before the work, so a typo costs nothing
    return datacard.render(dataset_card(ctx, principal, name), fmt, PDF_INSTEAD, translate, lang)
