"""Chromium (Playwright) on the witnesses page: an admin registers a witness by its verifier
key, sees its fingerprint and, once it has cosigned, the checkpoint it vouched for, and
removes it; a refused key is explained next to the field; the page reads in Traditional
Chinese; an auditor sees the list without the admin forms. Any browser console error (a
CSP violation included) fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain import checkpoint as cp
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, models, transparency, witnesses
from steward.services.context import Context
from steward.settings import Settings
from steward.trust import witness
from steward.trust.witness import WitnessKey

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
AUDITOR = Principal("ada", roles=frozenset({"auditor"}))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("witnesses")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'steward.db'}",
        artifacts_url=str(home / "a"),
        checkpoint_publish=(str(home / "published"),),
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "root", roles=("admin",), password=PASSWORD)
    identity.create_user(ctx, OP, "ada", roles=("auditor",), password=PASSWORD)
    models.create_model(ctx, OP, "credit", purpose="p")
    yield ctx
    ctx.uow.engine.dispose()


@pytest.fixture(scope="module")
def auditor_key(tmp_path_factory: pytest.TempPathFactory) -> WitnessKey:
    return witness.generate("auditor.example", tmp_path_factory.mktemp("wk") / "witness.pem")


def test_admin_registers_a_witness_sees_its_cosignature_and_removes_it(
    browser: Any, server: LiveServer, store: Context, auditor_key: WitnessKey
) -> None:
    root = Session(browser, server, "root")
    page = root.page
    page.click("nav >> text=Audit journal")
    page.click("main >> text=Witnesses and their cosignatures")
    page.wait_for_url("**/audit/witnesses")
    assert "No witness yet" in page.inner_text("main")

    # A key whose name is not the witness's is refused, with the reason by the field.
    page.fill("#w-name", "someone-else")
    page.fill("#w-key", auditor_key.verifier_key)
    page.click("form.witness-add button[type=submit]")
    assert "register it as 'auditor.example'" in page.inner_text("#witness-error")
    assert page.get_attribute("#w-name", "aria-invalid") == "true"
    assert page.input_value("#w-key") == auditor_key.verifier_key  # nothing to retype
    root.shot("30-witness-refused")
    # the refused form is answered 422, which the console logs: expected here
    root.errors = [e for e in root.errors if "422" not in e]

    page.fill("#w-name", "auditor.example")
    page.click("form.witness-add button[type=submit]")
    page.wait_for_url("**notice=witness_added")
    row = page.locator("#witness-auditor\\.example")
    fingerprint = cp.key_fingerprint(auditor_key.verifier_key)
    assert row.locator("code.fingerprint").inner_text().replace("\n", "") == fingerprint
    assert "Nothing cosigned yet." in row.inner_text()

    # The witness cosigns a checkpoint offline; the page shows what it vouched for.
    made = transparency.create_checkpoint(store, AUDITOR)
    vkey = transparency.verifier_key(store, AUDITOR)
    witnesses.add_cosignature(store, AUDITOR, witness.cosign(auditor_key, made.note, vkey))
    page.reload()
    latest = row.locator("td.latest").inner_text()
    assert f"Checkpoint {made.id}: events 1\u2013{made.tree_size}" in latest
    assert made.root_hash[:16] in latest
    root.shot("31-witness-cosigned")
    page.goto(f"{server.url}/audit")
    assert "Cosigned by: auditor.example" in page.inner_text("main")

    # The same page in Traditional Chinese.
    zh = Session(browser, server, "root", locale="zh-TW")
    zh.page.goto(f"{server.url}/audit/witnesses")
    text = zh.page.inner_text("main")
    assert "見證者" in text and "金鑰指紋\uff08SHA-256\uff09" in text and "登錄見證者" in text
    zh.shot("32-witnesses-zh-tw")
    zh.close()

    page.goto(f"{server.url}/audit/witnesses")
    page.locator("#witness-auditor\\.example form.remove-witness button").click()
    page.wait_for_url("**notice=witness_removed")
    assert "The witness was removed; its cosignatures stay." in page.inner_text("main")
    assert witnesses.list_witnesses(store, AUDITOR) == []
    root.close()


def test_an_auditor_reads_the_witnesses_but_cannot_change_them(
    browser: Any, server: LiveServer, store: Context, auditor_key: WitnessKey
) -> None:
    witnesses.add_witness(store, OP, "auditor.example", auditor_key.verifier_key)
    ada = Session(browser, server, "ada")
    page = ada.page
    page.goto(f"{server.url}/audit/witnesses")
    assert page.locator("#witness-auditor\\.example").count() == 1
    assert page.locator("form.witness-add, form.remove-witness").count() == 0
    # A forged removal (the auditor's own CSRF token, but not an admin) is refused.
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]')?.value || ''")
    response = page.request.post(
        f"{server.url}/audit/witnesses/auditor.example/remove", form={"csrf_token": token}
    )
    assert response.status == 403
    assert [w.name for w in witnesses.list_witnesses(store, AUDITOR)] == ["auditor.example"]
    ada.shot("33-auditor-witnesses")
    ada.close()
