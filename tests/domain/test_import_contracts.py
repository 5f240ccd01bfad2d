"""The import contracts in pyproject.toml say what docs/architecture.md says (issue 13): the
domain imports no other Steward package — every top-level package, including ones added
later, is listed as forbidden — and services import no face, web and demo included.
`lint-imports` (make lint, CI) then holds the code to them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import steward

ROOT = Path(__file__).resolve().parents[2]
FACES = {"steward.api", "steward.cli", "steward.sdk", "steward.web", "steward.demo"}


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def top_level_packages() -> set[str]:
    here = Path(steward.__file__).parent
    return {f"steward.{p.stem}" for p in here.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists())
            or (p.suffix == ".py" and p.stem != "__init__")}


def test_the_domain_contract_forbids_every_other_steward_package() -> None:
    domain = contracts()["The domain core imports no web, database or I/O framework"]
    assert domain["source_modules"] == ["steward.domain"]
    missing = top_level_packages() - {"steward.domain"} - set(domain["forbidden_modules"])
    assert not missing, f"add {sorted(missing)} to the domain contract's forbidden_modules"


def test_services_and_compute_packages_import_no_face() -> None:
    found = contracts()
    services = found["Services import no faces"]
    assert set(services["forbidden_modules"]) >= FACES
    compute = found["Compute packages (monitoring, validation) import no services, store or faces"]
    assert {"steward.services", "steward.store", *FACES - {"steward.demo"}} <= set(
        compute["forbidden_modules"])
    faces = found["Faces reach the store only through services"]
    assert set(faces["source_modules"]) == FACES - {"steward.demo"}
    assert faces["forbidden_modules"] == ["steward.store"]


def test_the_architecture_doc_states_each_contract() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for phrase in ("the domain imports no other Steward package", "services import no face",
                   "`monitoring` and `validation` import no services, store or faces",
                   "imports neither\n  the store, the services nor SQLAlchemy",
                   "reach the store only through services",
                   "the demo loads its data through services"):
        assert phrase in doc, phrase
