"""Compliance through the SDK, embedded and over HTTP: the same answers both ways."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from steward.compliance.coverage import State, Status
from steward.compliance.mapping import EvidenceKind
from steward.domain.errors import NotFound
from steward.sdk.client import Steward

MakeFile = Callable[[bytes, str], Path]


def test_catalogs_controls_and_crosswalk(client: Steward) -> None:
    catalogs = {c.id: c for c in client.compliance_catalogs()}
    assert catalogs["nist-ai-rmf"].assessable == 72
    assert catalogs["iso-42001"].counts["control"] == 38
    assert catalogs["eu-ai-act"].license_note.startswith("EU legislation")
    controls = client.compliance_controls("eu-ai-act")
    assert {c.kind for c in controls} == {"article", "annex_iv_section"}
    everything = client.compliance_controls("eu-ai-act", all_levels=True)
    assert len(everything) == 37
    art = client.compliance_control("eu-ai-act", "Art. 72")
    assert art.evidence == (EvidenceKind.MONITORING,) and art.applies_from == "2027-12-02"
    assert client.compliance_control("nist-ai-rmf", "GOVERN 2.2").organisational
    walk = client.crosswalk("nist-ai-rmf", "iso-42001")
    assert any(p.source == "GOVERN 1.6" and p.target == "A.4.2" for p in walk.pairs)
    with pytest.raises(NotFound):
        client.compliance_control("nist-ai-rmf", "GOVERN 9.9")


def test_coverage_and_dashboard(client: Steward, make_file: MakeFile) -> None:
    client.create_model("credit", title="Credit", purpose="Score applications", owner="olivia")
    client.log_version("credit", artifact=make_file(b"weights", "model.bin"))
    cov = client.coverage("credit", frameworks=["tw-fsc"])
    assert cov.version == 1 and cov.stage == "development"
    assert {c.framework for c in cov.controls} == {"tw-fsc"}
    by_kind = {e.kind: e for e in cov.evidence}
    assert by_kind[EvidenceKind.RISK_ASSESSMENT].state is State.MISSING
    assert by_kind[EvidenceKind.AUDIT_JOURNAL].state is State.CURRENT
    fsc6 = next(c for c in cov.controls if c.control == "TW-FSC-6")
    assert fsc6.status is Status.ORGANISATIONAL
    org = client.organisation_coverage(frameworks=["nist-ai-rmf"], controls=False)
    assert org.models == 1 and org.controls == ()
    assert org.frameworks[0].controls == 72
    board = client.compliance_dashboard()
    assert board.by_tier_and_stage == {"unassessed": {"development": 1}}
    assert board.open_findings == {"critical": 0, "high": 0, "medium": 0, "low": 0}
    with pytest.raises(NotFound):
        client.coverage("ghost")
