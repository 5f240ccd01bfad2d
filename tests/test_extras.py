"""A missing optional library ends in a message naming the extra to install (#14.1)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward import extras
from steward.domain.errors import MissingExtra
from steward.sdk.client import Steward
from tests.trust.test_faces import LIGHT_PACK


def test_require_names_the_extra() -> None:
    with pytest.raises(MissingExtra, match=r"pip install 'steward\[signing\]'") as raised:
        extras.require("signing", "steward_no_such_module")
    assert raised.value.extra == {"extra": "signing", "module": "steward_no_such_module"}
    assert raised.value.status == 501 and raised.value.to_problem()["code"] == "missing-extra"
    assert extras.require("server", "json").__name__ == "json"


def test_require_extra_checks_every_library_without_importing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(extras.MODULES, "demo", ("json", "steward_no_such_module"))
    with pytest.raises(MissingExtra, match=r"steward\[demo\]"):
        extras.require_extra("demo")
    extras.require_extra("server")  # this environment has it


def test_a_module_level_import_is_attributed_to_its_extra() -> None:
    assert extras.from_import_error(ModuleNotFoundError("x", name="requests")) is None
    duckdb = extras.from_import_error(ModuleNotFoundError("x", name="duckdb"))
    assert duckdb is not None and duckdb.extra["extra"] == "monitoring"
    # numpy serves validation and monitoring: the importing Steward package decides.
    namespace: dict[str, object] = {}
    code = compile("import steward_no_such_module", "/x/src/steward/monitoring/drift.py", "exec")
    with pytest.raises(ModuleNotFoundError) as raised:
        exec(code, namespace)
    raised.value.name = "numpy"
    found = extras.from_import_error(raised.value)
    assert found is not None and found.extra["extra"] == "monitoring"
    plain = extras.from_import_error(ModuleNotFoundError("x", name="numpy.linalg"))
    assert plain is not None and plain.extra["extra"] == "validation"


def test_a_production_move_without_signing_names_the_extra_and_changes_nothing(
    client: Steward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = client  # embedded, and over HTTP (a 501 problem raised again as MissingExtra)
    local.load_policy(text=LIGHT_PACK, activate=True)  # with a pack, production is signed
    local.create_model("credit")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    v = local.log_version("credit", artifact=artifact, capture_git=False).version
    for stage in ("validation", "approved"):
        local.transition("credit", v, to=stage, justification=stage)
    # As if model-signing were not installed (None in sys.modules makes its import fail).
    monkeypatch.setitem(sys.modules, "model_signing", None)
    monkeypatch.delitem(sys.modules, "steward.trust.sign", raising=False)
    with pytest.raises(MissingExtra, match=r"pip install 'steward\[signing\]'"):
        local.transition("credit", v, to="production", justification="go")
    assert local.get_version("credit", v).stage.value == "approved"


def test_the_cli_prints_the_extra_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.cli.main import app
    from tests.cli.helpers import ENV

    monkeypatch.setitem(extras.MODULES, "demo", ("steward_no_such_module",))
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "--as", "demo", "demo"], env=ENV)
    assert result.exit_code == 1
    assert "pip install 'steward[demo]'" in " ".join(result.output.split())
    assert not (tmp_path / "steward.db").exists()  # refused before creating anything
