"""A data recall: a dataset version turned out to be wrong (corrupt, unlawfully held,
mislabelled), so every model version built on it — and through them every deployment —
gets a finding at once, in one transaction, journalled (docs/datasets.md).

The findings are ordinary findings of each model version (they count against its gates and
are worked like any other); their ``source`` is ``dataset`` and their ``source_ref`` names
the dataset version and the model version, which is how `steward finding list --dataset`
finds them and why a second recall of the same version opens nothing twice.
"""

from __future__ import annotations

from steward.domain import datasets as rules
from steward.domain import finding_messages
from steward.domain.audit import Action
from steward.domain.datasets import Recall
from steward.domain.errors import InvalidInput
from steward.domain.findings import MAX_TEXT, parse_severity
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import findings
from steward.services.context import Context
from steward.services.datasets import impact_in_uow

RECALL_SOURCE = "dataset"


def recall(ctx: Context, principal: Principal, ref: str, *, severity: str, reason: str) -> Recall:
    """Open a finding on every model version trained or evaluated on ``ref``.

    Recalling data is the data governance committee's call (``dataset:approve``: a data
    steward or an admin), whoever owns the models: the finding is how the model owners
    learn of it. All or nothing: one transaction, one ``dataset.recalled`` event.
    """
    ensure(principal, Permission.DATASET_APPROVE)
    name, version = rules.parse_ref(ref)
    level = parse_severity(severity)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            'A recall needs a reason (-m "why the data is unfit"): it is the finding\'s '
            "description every model owner reads.",
            field="reason",
        )
    if len(reason) > MAX_TEXT:
        raise InvalidInput(f"A reason has at most {MAX_TEXT} characters.", field="reason")
    dataset_ref = f"{name}@{version}"
    with ctx.uow.write() as uow:
        impact = impact_in_uow(uow, name, version, lock=True)
        fingerprint = impact.fingerprint
        model_ids: dict[str, int] = {}
        opened = []
        fresh = 0
        for used in impact.models:
            if used.model not in model_ids:
                model_row = uow.models.row(used.model)
                assert model_row is not None  # built_on joined it from the models table
                model_ids[used.model] = int(model_row["id"])
            before = {f.id for f in uow.findings.open_for_model(model_ids[used.model])}
            found = findings.open_in_uow(
                uow,
                principal.name,
                model_id=model_ids[used.model],
                model=used.model,
                version=used.version,
                title=f"Data recall: {dataset_ref} ({used.role} data)",
                description=reason,
                severity=level.value,
                source=RECALL_SOURCE,
                source_ref=rules.recall_ref(dataset_ref, used.model, used.version),
                evidence={
                    "dataset": name,
                    "dataset_version": version,
                    "fingerprint": fingerprint,
                    "role": used.role,
                    "stage": used.stage,
                    "deployments": used.deployments,
                },
                scope="version",
                message_key=finding_messages.DATA_RECALL,
                message_params={"dataset": dataset_ref, "role": used.role},
            )
            fresh += found.id not in before
            opened.append(found)
        uow.record(
            principal.name,
            Action.DATASET_RECALLED,
            "dataset",
            dataset_ref,
            {
                "reason": reason,
                "severity": level.value,
                "fingerprint": fingerprint,
                "findings": [f.id for f in opened],
                "opened": fresh,
            },
        )
        uow.commit()
    return Recall(name, version, fingerprint, opened, fresh)
