"""SDK local and remote give identical results for the same script.

One realistic script (inventory, versions with lineage and a real scikit-learn
model, aliases, a promotion that displaces, searches, history, the journal) runs
against an embedded store and, separately, against a fresh server. Only what
legitimately differs is normalised: wall-clock times (and the hashes that seal
them), random token ids and secrets, and the digest of skops archives (their zip
entries carry the serialisation time). Everything else must be equal object for
object: same dataclasses, same fields, same audit actions in the same order.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from tests.conftest import LiveServer, ensure_user

import steward
from steward import bootstrap
from steward.domain.audit import AuditEvent, Verification, canonical_json
from steward.domain.entities import Artifact, Flavor, NewToken, TokenInfo
from steward.domain.permissions import OPERATOR, Principal
from steward.errors import StewardError
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import tokens
from steward.services.context import Context
from steward.settings import Settings

FEATURES = ["duration_in_month", "credit_amount", "age_in_years"]
T0 = datetime(2000, 1, 1, tzinfo=UTC)
OPERATOR_PRINCIPAL = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture(scope="module")
def credit() -> tuple[LogisticRegression, pd.DataFrame, pd.DataFrame]:
    from steward.demo.credit import load_german_credit

    frame = load_german_credit()[[*FEATURES, "purpose", "risk"]]
    train, test = frame.iloc[:700].reset_index(drop=True), frame.iloc[700:].reset_index(drop=True)
    model = LogisticRegression(max_iter=500).fit(train[FEATURES], train["risk"])
    return model, train, test


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny git repository the script trains 'from' (for the code lineage)."""
    where = tmp_path_factory.mktemp("repo")
    (where / "train.py").write_text("print('train')\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=where, check=True)
    subprocess.run([*git, "add", "."], cwd=where, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=where, check=True)
    return where


def _store(root: Path) -> Context:
    settings = Settings(
        home=root, database_url=f"sqlite:///{root / 'steward.db'}", artifacts_url=str(root / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    return ctx


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Steward, Steward]]:
    """An embedded client and a remote one, each on its own fresh store.

    Both stores start the same way (a token for alice, so the journals align),
    and both clients act as alice.
    """
    local_ctx = _store(tmp_path / "local")
    remote_ctx = _store(tmp_path / "remote")
    ensure_user(local_ctx, "alice", "admin")
    ensure_user(remote_ctx, "alice", "admin")
    tokens.create_token(local_ctx, OPERATOR_PRINCIPAL, user="alice", name="script")
    made = tokens.create_token(remote_ctx, OPERATOR_PRINCIPAL, user="alice", name="script")
    with LiveServer(remote_ctx) as server:
        local = Steward(LocalBackend(local_ctx, "alice"))
        remote = steward.connect(server.url, token=made.token)
        try:
            yield local, remote
        finally:
            remote.close()
            local.close()
            remote_ctx.uow.engine.dispose()


def scenario(
    st: Steward,
    work: Path,
    repo: Path,
    credit: tuple[LogisticRegression, pd.DataFrame, pd.DataFrame],
) -> list[tuple[str, Any]]:
    """What a data scientist and a model-risk officer would do in a morning."""
    model, train, test = credit
    work.mkdir()
    out: list[tuple[str, Any]] = []

    def keep(label: str, value: Any) -> Any:
        out.append((label, value))
        return value

    keep("actor", st.actor)
    keep(
        "create credit",
        st.create_model(
            "credit-scoring",
            title="Consumer credit scoring",
            purpose="Approve or refer consumer loan applications",
            business_unit="Retail lending",
            team="Retail Credit Risk",
            tags=["retail", "credit", "credit"],
            risk_tier="high",
            regulatory_category="high",
            risk_override_reason="tiered by the model risk committee",
            next_review_date=date(2027, 3, 31),
        ),
    )
    keep("create churn", st.create_model("churn", title="Churn propensity", tags=["retail"]))
    keep(
        "create fraud",
        st.create_model("fraud", team="Fraud", owner="bob", allow_multiple_production=True),
    )

    v1 = keep(
        "v1",
        st.log_version(
            "credit-scoring",
            model,
            training_data=train,
            evaluation_data=test,
            target="risk",
            params={"C": 1.0, "max_iter": 500, "features": FEATURES},
            metrics={"roc_auc": 0.71, "accuracy": 0.7},
            tags={"framework": "sklearn", "data": "german-credit"},
            description="Baseline logistic regression",
            code_path=repo,
        ),
    )
    rules = work / "rules.json"
    rules.write_text(json.dumps({"threshold": 0.42}))
    keep(
        "v2",
        st.log_version(
            "credit-scoring",
            artifact=rules,
            params={"threshold": 0.42},
            metrics={"roc_auc": 0.74},
            tags={"framework": "rules", "data": "german-credit"},
            parent_version=v1.version,
            capture_git=False,
        ),
    )
    folder = work / "churn-model"
    (folder / "weights").mkdir(parents=True)
    (folder / "weights" / "w.bin").write_bytes(bytes(range(256)))
    (folder / "README.md").write_text("churn\n")
    keep(
        "churn v1",
        st.log_version("churn", artifact=folder, tags={"framework": "custom"}, capture_git=False),
    )
    scorecard = work / "barème-✓.txt"
    scorecard.write_text("age>30: +2\n", encoding="utf-8")
    keep("fraud v1", st.log_version("fraud", artifact=scorecard, capture_git=False))
    keep("fraud v2", st.log_version("fraud", artifact=rules, capture_git=False))

    # Lifecycle: v1 to production, then v2 displaces it.
    for stage in ("validation", "approved", "production"):
        keep(f"v1 -> {stage}", st.transition("credit-scoring", 1, to=stage, justification="ok"))
    keep("alias champion", st.set_alias("credit-scoring", "champion", 1))
    keep("alias challenger", st.set_alias("credit-scoring", "challenger", 2))
    keep("gate v2", st.check_transition("credit-scoring", 2, to="production"))
    for stage in ("validation", "approved"):
        keep(f"v2 -> {stage}", st.transition("credit-scoring", 2, to=stage, justification="ok"))
    before_promotion = keep("history before", st.history())
    promoted = keep(
        "v2 -> production",
        st.transition(
            "credit-scoring",
            2,
            to="production",
            justification="Better AUC\u2028on the 2026 back-test",
        ),
    )
    keep("alias champion moved", st.set_alias("credit-scoring", "champion", 2))
    st.delete_alias("credit-scoring", "challenger")
    keep("aliases after delete", st.get_version("credit-scoring", 2).aliases)
    # Two production versions side by side are fine where the model allows it.
    for stage in ("validation", "approved", "production"):
        st.transition("fraud", 1, to=stage, justification="rules")
        keep(f"fraud 2 -> {stage}", st.transition("fraud", 2, to=stage, justification="rules"))
    keep(
        "update", st.update_model("credit-scoring", owner="carol", tags=["credit"], status="active")
    )

    # Reading it back.
    keep("get model", st.get_model("credit-scoring"))
    keep("get v1", st.get_version("credit-scoring", 1))
    keep("get champion", st.get_version("credit-scoring", "champion"))
    keep("get '2'", st.get_version("credit-scoring", "2"))
    keep("transitions v1", st.transitions("credit-scoring", 1))
    keep("transitions v2", st.transitions("credit-scoring", 2))
    keep("list all", st.list_models())
    page = keep("list page 1", st.list_models(limit=2))
    keep("list page 2", st.list_models(limit=2, cursor=page.next_cursor))
    keep("list tag", st.list_models(tag="retail"))
    keep("list risk", st.list_models(risk_tier="high"))
    keep("list text", st.list_models(q="CREDIT"))
    keep("list stage", st.list_models(stage="production"))
    keep("list owner", st.list_models(owner="bob", team="Fraud"))
    keep("versions", st.list_versions("credit-scoring"))
    keep("versions deprecated", st.list_versions("credit-scoring", stage="deprecated"))
    vpage = keep("versions page 1", st.list_versions("credit-scoring", limit=1))
    keep("versions page 2", st.list_versions("credit-scoring", limit=1, cursor=vpage.next_cursor))
    keep("search tag", st.search_versions(tag="framework=sklearn"))
    keep("search tag key", st.search_versions(tag="data"))
    keep("search stage", st.search_versions(stage="production"))
    keep("history now", st.history())
    keep("history model", st.history("credit-scoring"))
    keep("history then", st.history("credit-scoring", at=before_promotion[0].at))
    keep("history at promotion", st.history(at=promoted.transition.at))

    # Bytes and the model itself.
    keep("download rules", st.download("credit-scoring", 2, work / "rules.out").read_bytes())
    (work / "fraud-out").mkdir()
    scorecard_out = st.download("fraud", 1, work / "fraud-out")
    keep("download scorecard", (scorecard_out.name, scorecard_out.read_bytes()))
    keep(
        "download folder",
        sorted(
            (p.relative_to(work / "churn-out").as_posix(), p.read_bytes())
            for p in st.download("churn", 1, work / "churn-out").rglob("*")
            if p.is_file()
        ),
    )
    loaded = st.load_model("credit-scoring", "1")
    keep("predictions", loaded.predict_proba(test[FEATURES]).round(12).tolist())

    # The journal.
    keep("events", st.audit_events(limit=1000))
    keep("events credit", st.audit_events(subject_prefix="credit-scoring"))
    keep("events transitions", st.audit_events(action="version.transitioned", after_seq=10))
    keep("events alias", st.audit_events(subject_type="alias", actor="alice", limit=2))
    keep("verify", st.verify_audit())
    exported = work / "audit.jsonl"
    keep("export count", st.export_audit(exported))
    keep("export lines", [json.loads(line) for line in exported.read_text().split("\n") if line])
    keep("tokens", st.list_tokens())
    return out


def _sklearn_digests(value: Any, found: set[str]) -> None:
    if isinstance(value, Artifact) and value.flavor is Flavor.SKLEARN:
        found.add(value.sha256)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            _sklearn_digests(getattr(value, f.name), found)
    elif isinstance(value, list | tuple):
        for item in value:
            _sklearn_digests(item, found)


SIGNATURE_FIELDS = {
    "key_id",
    "manifest_sha256",
    "manifest_signature_sha256",
    "model_signature_sha256",
}


class Normaliser:
    """Replace what legitimately differs between two runs; keep types and all else."""

    def __init__(self, results: list[tuple[str, Any]]) -> None:
        digests: set[str] = set()
        _sklearn_digests([v for _, v in results], digests)
        self.digests = digests

    def text(self, value: str) -> str:
        for digest in self.digests:
            value = value.replace(digest, "<skops-digest>")
        return value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return T0
        if isinstance(value, AuditEvent):
            payload = json.loads(value.payload)
            if value.action == "version.signed":
                # each store signs with its own key, and ECDSA signatures are randomised
                for key in SIGNATURE_FIELDS & set(payload):
                    payload[key] = f"<{key}>"
            return replace(
                value,
                time="<time>",
                hash="<hash>",
                prev_hash="<hash>",
                subject_id="<token>" if value.subject_type == "token" else value.subject_id,
                payload=self.text(canonical_json(payload)),
            )
        if isinstance(value, Verification):
            return replace(value, head_hash="<hash>")
        if isinstance(value, TokenInfo):
            return replace(value, id="<token>", created_at=T0, last_used_at=None)
        if isinstance(value, NewToken):
            return replace(value, info=self(value.info), token="<secret>")
        if is_dataclass(value) and not isinstance(value, type):
            return replace(
                value, **{f.name: self(getattr(value, f.name)) for f in fields(value) if f.init}
            )
        if isinstance(value, dict):
            if {"seq", "hash", "prev_hash", "time"} <= set(value):  # an exported event
                if value.get("action") == "version.signed":
                    payload = dict(value["payload"])
                    for key in SIGNATURE_FIELDS & set(payload):
                        payload[key] = f"<{key}>"
                    value = {**value, "payload": payload}
                return {
                    **{k: self(v) for k, v in value.items()},
                    "time": "<time>",
                    "hash": "<hash>",
                    "prev_hash": "<hash>",
                    "subject_id": "<token>"
                    if value["subject_type"] == "token"
                    else value["subject_id"],
                }
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        if isinstance(value, str):
            return self.text(value)
        return value


def test_the_same_script_gives_the_same_results_embedded_and_remote(
    pair: tuple[Steward, Steward],
    tmp_path: Path,
    repo: Path,
    credit: tuple[LogisticRegression, pd.DataFrame, pd.DataFrame],
) -> None:
    local, remote = pair
    here = scenario(local, tmp_path / "embedded", repo, credit)
    there = scenario(remote, tmp_path / "server", repo, credit)

    assert [label for label, _ in here] == [label for label, _ in there]
    norm_here, norm_there = Normaliser(here), Normaliser(there)
    for (label, mine), (_, theirs) in zip(here, there, strict=True):
        a, b = norm_here(mine), norm_there(theirs)
        assert type(a) is type(b), label
        assert a == b, label

    results = dict(here)
    # The script did what it says (so equality above is not equality of nothing).
    assert results["actor"] == "alice"
    assert results["create credit"].tags == ["credit", "retail"]
    assert results["v1"].code is not None and results["v1"].code.path == "."
    assert results["v1"].training_data.rows == 700
    assert [c.name for c in results["v1"].signature.inputs] == FEATURES
    displaced = results["v2 -> production"].displaced
    assert [(d.version, d.from_stage.value, d.to_stage.value) for d in displaced] == [
        (1, "production", "deprecated")
    ]
    assert displaced[0].caused_by == "credit-scoring/2"
    assert results["fraud 2 -> production"].displaced == []
    assert [m.name for m in results["list page 1"].items] == ["churn", "credit-scoring"]
    assert [m.name for m in results["list page 2"].items] == ["fraud"]
    assert results["list page 2"].next_cursor is None
    assert [m.name for m in results["list stage"].items] == ["credit-scoring", "fraud"]
    assert [v.version for v in results["versions page 2"].items] == [1]
    assert [(v.model, v.version) for v in results["search tag"].items] == [("credit-scoring", 1)]
    assert results["history then"][0].production == [1]
    assert results["history then"][0].aliases == {"challenger": 2, "champion": 1}
    assert results["history model"][0].production == [2]
    assert results["history model"][0].aliases == {"champion": 2}
    assert results["download rules"] == b'{"threshold": 0.42}'
    assert results["download scorecard"] == ("barème-✓.txt", b"age>30: +2\n")
    assert results["download folder"] == [
        ("README.md", b"churn\n"),
        ("weights/w.bin", bytes(range(256))),
    ]
    assert results["verify"].ok and results["verify"].checked == len(results["events"])
    assert results["export count"] == len(results["events"]) == len(results["export lines"])
    assert [e.action for e in results["events alias"]] == ["alias.set", "alias.set"]
    # The same actions in the same order on both sides (the whole journal).
    actions_here = [e.action for e in results["events"]]
    assert actions_here == [e.action for e in dict(there)["events"]]
    assert actions_here[:2] == ["user.created", "token.created"]
    assert actions_here.count("model.created") == 3
    assert actions_here[-1] == "model.updated"


def _bad_calls(work: Path) -> list[tuple[str, Callable[[Steward], Any]]]:
    missing = work / "missing.bin"
    good = work / "good.bin"
    return [
        ("unknown model", lambda st: st.get_model("nope")),
        ("invalid name", lambda st: st.create_model("Not A Slug")),
        ("duplicate", lambda st: st.create_model("m")),
        ("wrong field type", lambda st: st.create_model("m2", title=5)),
        ("unknown field", lambda st: st.create_model("m2", colour="red")),
        ("bad enum", lambda st: st.update_model("m", risk_tier="extreme")),
        ("bad date", lambda st: st.update_model("m", next_review_date="soon")),
        ("nothing to update", lambda st: st.update_model("m")),
        ("tags not a list", lambda st: st.update_model("m", tags="credit")),
        ("unknown version", lambda st: st.get_version("m", 9)),
        ("unknown alias", lambda st: st.get_version("m", "champion")),
        ("alias to version 0", lambda st: st.set_alias("m", "champion", 0)),
        ("bad alias", lambda st: st.set_alias("m", "Champion", 1)),
        ("delete unknown alias", lambda st: st.delete_alias("m", "champion")),
        (
            "illegal transition",
            lambda st: st.transition("m", 1, to="production", justification="x"),
        ),
        ("unknown stage", lambda st: st.transition("m", 1, to="prod", justification="x")),
        ("no justification", lambda st: st.transition("m", 1, to="validation", justification=" ")),
        ("gate unknown version", lambda st: st.check_transition("m", 7, to="validation")),
        (
            "metric not a number",
            lambda st: st.log_version(
                "m", artifact=good, metrics={"auc": "high"}, capture_git=False
            ),
        ),
        (
            "bad tag key",
            lambda st: st.log_version("m", artifact=good, tags={"bad key": "x"}, capture_git=False),
        ),
        (
            "missing parent",
            lambda st: st.log_version("m", artifact=good, parent_version=5, capture_git=False),
        ),
        (
            "unreadable artifact",
            lambda st: st.log_version("m", artifact=missing, capture_git=False),
        ),
        (
            "version of unknown model",
            lambda st: st.log_version("nope", artifact=good, capture_git=False),
        ),
        ("limit 0", lambda st: st.list_models(limit=0)),
        ("limit too big", lambda st: st.list_versions("m", limit=5000)),
        ("bad cursor", lambda st: st.list_versions("m", cursor="abc")),
        ("bad tag filter", lambda st: st.search_versions(tag="=x")),
        ("bad stage filter", lambda st: st.search_versions(stage="prod")),
        ("bad risk filter", lambda st: st.list_models(risk_tier="extreme")),
        ("unknown filter", lambda st: st.list_models(colour="red")),
        ("gate unknown stage", lambda st: st.check_transition("m", 1, to="prod")),
        ("naive history time", lambda st: st.history(at=datetime(2026, 1, 1))),
        ("history of unknown model", lambda st: st.history("nope")),
        ("audit limit", lambda st: st.audit_events(limit=0)),
        ("token for nobody", lambda st: st.create_token("  ")),
        ("token expiry", lambda st: st.create_token("alice", expires_in_days=0)),
        ("revoke unknown token", lambda st: st.revoke_token("tok_nope")),
        ("download unknown", lambda st: st.download("m", 4, work / "x.bin")),
    ]


def test_the_same_bad_calls_raise_the_same_errors(
    pair: tuple[Steward, Steward], tmp_path: Path
) -> None:
    local, remote = pair
    (tmp_path / "good.bin").write_bytes(b"good")
    outcomes: dict[str, list[tuple[type[BaseException], str, dict[str, Any]]]] = {}
    for st in (local, remote):
        st.create_model("m")
        st.log_version("m", artifact=tmp_path / "good.bin", capture_git=False)
        for label, call in _bad_calls(tmp_path):
            with pytest.raises(StewardError) as caught:
                call(st)
            err = caught.value
            outcomes.setdefault(label, []).append((type(err), str(err), dict(err.extra)))
    for label, (mine, theirs) in outcomes.items():
        assert mine == theirs, label
    # Spot-check a few so the comparison is about real messages.
    kind, message, extra = outcomes["illegal transition"][0]
    assert kind.__name__ == "IllegalTransition"
    assert "Allowed next stages: validation" in message
    assert extra["allowed"] == ["validation"]
    assert outcomes["unknown model"][0][0].__name__ == "NotFound"
    assert outcomes["alias to version 0"][0][0].__name__ == "NotFound"
    assert outcomes["wrong field type"][0][1] == "title must be text, got int."
    assert outcomes["metric not a number"][0][1] == "Metric 'auc' must be a number, got str."
    assert outcomes["unknown filter"][0][1].startswith("Unknown model filter(s): colour.")
    # Nothing the bad calls attempted was written, on either side.
    for st in (local, remote):
        assert [e.action for e in st.audit_events()] == [
            "user.created",
            "token.created",
            "model.created",
            "version.created",
        ]
