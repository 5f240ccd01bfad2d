"""Hostile input gets a 4xx problem that names the problem, never a 500.

Each case is one the security campaign (schemathesis and hand probes) answered with a
server error: broken data files sent to /validate, YAML nested 20 000 deep or full of
aliases, a lone UTF-16 surrogate in JSON, ids beyond the database's integers and a
token lifetime of 12 million days.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from functools import cache

import httpx
import pytest
from tests.conftest import LiveServer

from steward import connect
from steward.demo.credit import TARGET, TrainedCreditModel, train_credit_model

PROBLEM = "application/problem+json"
DEEP_LIST = "[" * 20_000 + "]" * 20_000
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@cache
def trained() -> TrainedCreditModel:
    return train_credit_model(seed=3, model_kind="logistic")


@pytest.fixture
def http(live_server: LiveServer, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def with_version(live_server: LiveServer, token: str) -> None:
    model = trained()
    with connect(live_server.url, token=token) as st:
        st.create_model("credit", title="Credit")
        st.log_version("credit", model.model, capture_git=False)


def is_problem(response: httpx.Response, status: int, *needles: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    for needle in needles:
        assert needle in str(body["detail"]), (needle, body["detail"])
    return body


def parquet_bytes() -> bytes:
    out = io.BytesIO()
    trained().test.to_parquet(out)
    return out.getvalue()


BROKEN_FILES = [
    ("eval.csv", b"", "CSV file", "is empty"),
    ("eval.csv", bytes(range(256)) * 64, "CSV file", "not UTF-8"),
    ("eval.csv", b'a,b\n1,2,3,4\n5\n"unterminated\n', "CSV file", "quotes must close"),
    ("eval.csv", "age,risk\n30,1\n40,0\n".encode("utf-16"), "CSV file", "UTF-16"),
    ("eval.parquet", b"", "Parquet file", "is empty"),
    ("eval.parquet", b"PAR1 not really parquet", "Parquet file", "cannot be read"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("filename", "content", "kind", "reason"), BROKEN_FILES)
def test_broken_data_files_are_refused_with_the_reason(
    http: httpx.Client, with_version: None, filename: str, content: bytes, kind: str, reason: str
) -> None:
    response = http.post(
        "/api/v1/models/credit/versions/1/validate",
        data={"options": json.dumps({"target": TARGET})},
        files={"data": (filename, content)},
    )
    is_problem(response, 422, kind, reason)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_truncated_parquet_file_is_refused(http: httpx.Client, with_version: None) -> None:
    whole = parquet_bytes()
    response = http.post(
        "/api/v1/models/credit/versions/1/validate",
        data={"options": json.dumps({"target": TARGET})},
        files={"data": ("eval.parquet", whole[: len(whole) // 2])},
    )
    is_problem(response, 422, "Parquet file", "truncated")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("text", "needle"), [(DEEP_LIST, "nested"), (LAUGHS, "alias")], ids=["deep", "laughs"]
)
def test_policy_packs_nested_too_deep_or_full_of_aliases_are_refused(
    http: httpx.Client, text: str, needle: str
) -> None:
    response = http.post("/api/v1/policies", json={"source": text, "filename": "pack.yaml"})
    is_problem(response, 422, needle)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_suite_nested_too_deep_is_refused(http: httpx.Client, with_version: None) -> None:
    response = http.post(
        "/api/v1/models/credit/versions/1/validate",
        data={"options": json.dumps({"target": TARGET, "suite_yaml": DEEP_LIST})},
        files={"data": ("eval.csv", trained().test.to_csv(index=False).encode())},
    )
    is_problem(response, 422, "nested")


def test_a_lone_surrogate_in_json_is_refused(http: httpx.Client) -> None:
    response = http.post(
        "/api/v1/models",
        content=b'{"name": "credit", "title": "Credit \\ud800 scoring"}',
        headers={"content-type": "application/json"},
    )
    is_problem(response, 422, "surrogate")
    assert http.get("/api/v1/models/credit").status_code == 404


def test_deeply_nested_json_is_refused(http: httpx.Client) -> None:
    response = http.post(
        "/api/v1/models",
        content=("[" * 100_000 + "]" * 100_000).encode(),
        headers={"content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("number", [2**63, 2**63 + 1, 10**30, 2**31])
def test_ids_beyond_the_database_integers_are_out_of_range(http: httpx.Client, number: int) -> None:
    http.post("/api/v1/models", json={"name": "credit", "title": "Credit"}).raise_for_status()
    for path in (
        f"/api/v1/models/credit/versions/{number}",
        f"/api/v1/findings/{number}",
        f"/api/v1/reviews/{number}",
    ):
        response = http.get(path)
        if response.status_code != 404:  # an id the database can hold: simply not there
            is_problem(response, 422, "larger than Steward stores")


def test_a_token_lifetime_beyond_the_calendar_is_refused(http: httpx.Client) -> None:
    response = http.post(
        "/api/v1/tokens", json={"user": "alice", "name": "forever", "expires_in_days": 12_377_074}
    )
    is_problem(response, 422, "expires_in_days", "3650")
