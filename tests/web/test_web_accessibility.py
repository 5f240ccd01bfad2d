"""Every page, as rendered for an administrator (who sees every form), meets the basics a
screen-reader or keyboard user depends on: the document language is set, there is exactly
one <h1>, every visible form control has a label (a <label for>, a wrapping <label>, or an
aria-label), ids are unique so those labels point at one control, images have alt text and
data tables have a caption or a name. SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.sdk.client import Steward
from steward.services import findings, identity, jobs, policies, versions
from steward.services import models as model_service
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
DEFAULT_PACK = (
    Path(__file__).resolve().parents[2] / "src" / "steward" / "policies" / "default-pack.yaml"
)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.h1 = 0
        self.ids: Counter[str] = Counter()
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None], bool]] = []
        self.images_without_alt: list[str] = []
        self.tables: list[bool] = []  # named?
        self._in_label = 0
        self._table_named: list[bool] = []
        self._sections: list[bool] = []  # enclosing section/figure named by a heading?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids[str(a["id"])] += 1
        if tag == "html":
            self.lang = str(a.get("lang") or "")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        elif tag in ("input", "select", "textarea"):
            hidden = a.get("type") in ("hidden", "submit", "button", "reset")
            if not hidden:
                self.controls.append((tag, a, self._in_label > 0))
        elif tag == "img" and not a.get("alt"):
            self.images_without_alt.append(str(a.get("src")))
        elif tag in ("section", "figure"):
            self._sections.append(bool(a.get("aria-labelledby") or a.get("aria-label")))
        elif tag == "table":
            # a table inside a section named by its heading is named by that heading
            inherited = bool(self._sections and self._sections[-1])
            self._table_named.append(
                inherited or bool(a.get("aria-label") or a.get("aria-labelledby"))
            )
        elif tag == "caption" and self._table_named:
            self._table_named[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._in_label:
            self._in_label -= 1
        elif tag == "table" and self._table_named:
            self.tables.append(self._table_named.pop())
        elif tag in ("section", "figure") and self._sections:
            self._sections.pop()

    def problems(self) -> list[str]:
        out = []
        if not self.lang:
            out.append("<html> has no lang")
        if self.h1 != 1:
            out.append(f"{self.h1} <h1> elements")
        out += [f"id {i!r} used {n} times" for i, n in self.ids.items() if n > 1]
        for tag, a, wrapped in self.controls:
            named = wrapped or a.get("aria-label") or a.get("aria-labelledby") or a.get("title")
            if not named and str(a.get("id") or "") not in self.label_for:
                out.append(f"<{tag} name={a.get('name')!r}> has no label")
        out += [f"<img src={s}> has no alt" for s in self.images_without_alt]
        if not all(self.tables):
            out.append(f"{self.tables.count(False)} table(s) without caption or name")
        return out


@pytest.fixture
def web(ctx: Context, local: Steward, tmp_path: Path) -> Iterator[TestClient]:
    ensure_user(ctx, "root", "admin")
    identity.set_password(ctx, OP, "root", PASSWORD)
    monitor = _watched_model(local, tmp_path)  # before the pack: its gates would hold v1 back
    info = policies.load_pack(ctx, OP, DEFAULT_PACK.read_text(), activate=True)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    ensure_user(ctx, "olive", "owner")
    model_service.create_model(ctx, olive, "churn", title="Churn", purpose="retention offers")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"real bytes")
    versions.create_version(ctx, olive, "churn", VersionSpec(description="first"), artifact)
    findings.open_finding(ctx, OP, "churn", title="Calibration drifts", severity="high")
    job = jobs.submit(ctx, OP, "model_card_pdf", "churn", 1)
    with TestClient(create_app(ctx)) as client:
        client.headers["x-pack"] = f"{info.name}/{info.version}"
        client.headers["x-job"] = job.id
        client.headers["x-monitor"] = monitor
        yield client


def _watched_model(local: Steward, tmp_path: Path) -> str:
    """A production version with a monitor that ran once: the monitor page has a history."""
    local.create_model("watched", owner="olive", purpose="monitor pages")
    artifact = tmp_path / "watched.bin"
    artifact.write_bytes(b"real bytes")
    local.log_version("watched", artifact=artifact, capture_git=False)
    for stage in ("validation", "approved", "production"):
        local.transition("watched", 1, to=stage, justification="test")
    frame = pd.DataFrame({"income": [float(i) for i in range(100)], "region": ["n", "s"] * 50})
    made = local.create_monitor("watched", 1, reference=frame)
    local.run_monitor(made.id, frame.assign(income=frame.income * 3))
    return str(made.id)


PAGES = [
    "/",
    "/models/churn",
    "/models/churn/monitoring",
    "/models/churn/risk",
    "/models/churn/impact",
    "/models/new",
    "/models/churn/versions/new",
    "/models/churn/monitors/new",
    "/models/watched/monitors/{monitor}",
    "/work",
    "/approvals",
    "/findings",
    "/reviews",
    "/compliance",
    "/compliance/models/churn",
    "/compliance/programme",
    "/audit",
    "/admin",
    "/admin/users/new",
    "/admin/teams",
    "/admin/webhooks",
    "/admin/connections",
    "/datasets",
    "/datasets/discover",
    "/datasets/discover?connection=nowhere",
    "/tokens",
    "/notifications",
    "/policies/{pack}",
    "/models/churn/versions/1/validate",
    "/jobs?model=churn",
    "/jobs/{job}",
]


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_every_page_has_labels_one_h1_and_named_tables(web: TestClient, lang: str) -> None:
    sign_in(web, "root")
    web.get(f"/lang/{lang}?next=/")
    found = {}
    for url in PAGES:
        page = web.get(
            url.format(
                pack=web.headers["x-pack"],
                job=web.headers["x-job"],
                monitor=web.headers["x-monitor"],
            )
        )
        assert page.status_code == 200, (url, page.status_code)
        parsed = _Page()
        parsed.feed(page.text)
        assert parsed.lang.lower().startswith(lang.lower()[:2]), (url, parsed.lang)
        if parsed.problems():
            found[url] = parsed.problems()
    assert found == {}


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_the_monitor_form_with_its_columns_is_accessible(web: TestClient, lang: str) -> None:
    sign_in(web, "root")
    web.get(f"/lang/{lang}?next=/")
    form = web.get("/models/watched/monitors/new").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    page = web.post(
        "/models/watched/monitors/new",
        data={"csrf_token": token, "step": "inspect"},
        files={"reference": ("reference.csv", b"income,region\n1.5,n\n2.5,s\n", "text/csv")},
    )
    assert page.status_code == 200 and 'id="monitor-columns"' in page.text
    parsed = _Page()
    parsed.feed(page.text)
    assert parsed.problems() == []


def test_the_checker_finds_what_it_looks_for() -> None:
    parsed = _Page()
    parsed.feed(
        '<html><h1>a</h1><h1>b</h1><input name="q" id="q"><select name="s"></select>'
        '<label for="q2">x</label><input id="q2" name="q2"><img src="x.png">'
        "<table><tr><td>1</td></tr></table><p id='d'></p><p id='d'></p>"
    )
    problems = parsed.problems()
    assert "<html> has no lang" in problems and "2 <h1> elements" in problems
    assert "<input name='q'> has no label" in problems
    assert "<select name='s'> has no label" in problems
    assert not any("q2" in p for p in problems)
    assert "<img src=x.png> has no alt" in problems
    assert "1 table(s) without caption or name" in problems and "id 'd' used 2 times" in problems


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_the_impact_assessment_page_with_a_decision_and_a_refusal_is_accessible(
    web: TestClient, ctx: Context, lang: str
) -> None:
    from steward.domain import impact as impact_form
    from steward.services import impact

    olive = Principal(name="olive", roles=frozenset({"owner"}))
    answers = {f.id: f"answer to {f.id}" for f in impact_form.shipped().fields}
    impact.submit(ctx, olive, "churn", answers)
    sign_in(web, "root")
    web.get(f"/lang/{lang}?next=/")
    page = web.get("/models/churn/impact")
    assert page.status_code == 200 and "impact-decide" in page.text  # the decision form
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = web.post("/models/churn/impact", data={"csrf_token": token, "benefits": "x"})
    assert refused.status_code == 422 and 'id="impact-error"' in refused.text
    for html in (page.text, refused.text):
        parsed = _Page()
        parsed.feed(html)
        assert parsed.problems() == []
