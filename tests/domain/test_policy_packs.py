"""Policy packs: the shipped default parses; mistakes are reported with file and line."""

from __future__ import annotations

import pytest

from steward.domain import policy
from steward.domain.lifecycle import Stage
from steward.domain.yamldoc import DocumentError

MINIMAL = """\
pack: acme
version: "1"
requirements:
  - id: approvals.one
    kind: approvals
    roles: [validator]
    count: 1
    to: [approved]
    controls: ["nist-ai-rmf:GOVERN 2.1"]
"""


def test_the_default_pack_parses_and_cites_real_controls() -> None:
    pack = policy.parse(policy.default_pack_text(), "default-pack.yaml")
    assert pack.ref == "steward-default@2026.12"
    assert pack.review_months("critical") == 6
    assert pack.review_months("high") == 12
    catalogs = policy.known_controls()
    for spec in pack.requirements:
        assert spec.controls, spec.id
        for control in spec.controls:
            framework, _, ident = control.partition(":")
            assert ident in catalogs[framework]


def test_default_pack_scales_with_the_tier() -> None:
    pack = policy.parse(policy.default_pack_text())
    high = {r.id: r for r in pack.applicable(Stage.APPROVED, "high")}
    low = {r.id: r for r in pack.applicable(Stage.APPROVED, "low")}
    assert high["approvals.validation"].params["count"] == 2
    assert high["approvals.validation"].params["distinct_teams"] == 2
    assert low["approvals.validation"].params["count"] == 1
    assert "checks.fairness" in high and "checks.fairness" not in low
    # an unassessed model cannot even enter validation without its assessment
    assert "risk.assessed" in {r.id for r in pack.applicable(Stage.VALIDATION, "unassessed")}


def test_a_minimal_pack_applies_to_every_tier_by_default() -> None:
    pack = policy.parse(MINIMAL, "acme.yaml")
    assert [r.id for r in pack.applicable(Stage.APPROVED, "low")] == ["approvals.one"]
    assert pack.applicable(Stage.PRODUCTION, "low") == []


def problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(DocumentError) as caught:
        policy.parse(text, "pack.yaml")
    assert str(caught.value).startswith("pack.yaml line")
    return [(p.line, p.message) for p in caught.value.problems]


def test_every_problem_is_reported_with_its_line() -> None:
    found = problems(
        """\
pack: acme
version: "1"
requirements:
  - id: approvals.one
    kind: approvals
    roles: [boss]
    count: 0
    to: [prod]
    controls: ["nist-ai-rmf:GOVERN 99"]
"""
    )
    lines = {line for line, _ in found}
    assert lines == {6, 7, 8, 9}
    text = " ".join(m for _, m in found)
    assert "unknown role(s) boss" in text
    assert "'count' must be a whole number" in text
    assert "unknown stage 'prod'" in text
    assert "nist-ai-rmf has no control 'GOVERN 99'" in text


def test_syntax_errors_name_the_line() -> None:
    assert problems("pack: acme\nversion: [1\n")[0][0] == 3


def test_duplicate_keys_are_refused() -> None:
    found = problems(MINIMAL.replace("    count: 1\n", "    count: 1\n    count: 2\n"))
    assert found == [(8, "duplicate key 'count'")]


def test_contradictory_requirements_are_refused() -> None:
    second = MINIMAL.split("requirements:\n")[1].replace("count: 1", "count: 2")
    found = problems(MINIMAL + second)
    assert found[0][0] == 10
    assert "contradicts the one at line 4" in found[0][1]
    # disjoint tiers are not a contradiction
    low = MINIMAL.replace("    to: [approved]\n", "    to: [approved]\n    tiers: [low]\n")
    high = second.replace("    to: [approved]\n", "    to: [approved]\n    tiers: [high]\n")
    assert len(policy.parse(low + high).requirements) == 2


def test_impossible_and_unknown_parameters_are_refused() -> None:
    found = problems(MINIMAL.replace("count: 1", "count: 1\n    distinct_teams: 2\n    quorum: 3"))
    text = " ".join(m for _, m in found)
    assert "distinct_teams (2) cannot exceed count (1)" in text
    assert "unknown key 'quorum'" in text


def test_a_checks_requirement_needs_checks_or_a_suite() -> None:
    text = MINIMAL.replace(
        "    kind: approvals\n    roles: [validator]\n    count: 1\n", "    kind: checks_passed\n"
    )
    assert "name the 'checks'" in problems(text)[0][1]


def test_controls_are_required() -> None:
    text = MINIMAL.replace('    controls: ["nist-ai-rmf:GOVERN 2.1"]\n', "")
    assert "'controls' must cite" in problems(text)[0][1]


def test_a_pack_must_be_a_mapping() -> None:
    assert "a policy pack is a mapping" in problems("- 1\n- 2\n")[0][1]


def test_lines_of_defence_in_approvals_are_checked() -> None:
    found = problems(
        MINIMAL.replace(
            "count: 1", "count: 1\n    lines: [second, fourth]\n    forbid_lines: [second]"
        )
    )
    messages = " ".join(m for _, m in found)
    assert "unknown line(s) of defence fourth in lines" in messages
    assert "line(s) second are both required and forbidden" in messages
    shipped = {s.id: s.params for s in policy.parse(policy.default_pack_text()).requirements}
    assert shipped["approvals.validation"]["forbid_lines"] == ["third"]
    assert shipped["approvals.validation"]["lines"] == ["second"]
