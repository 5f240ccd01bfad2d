"""The floor for the registry benchmark: a minimal model registry over HTTP and SQLite.

What a competent engineer would write in an afternoon instead of adopting a registry: the
same seven operations as the benchmark drives on Steward and MLflow, on the same ASGI stack
as Steward (Starlette under uvicorn, the same worker count), with a bearer token looked up
per request, artifacts stored content-addressed on disk, and one SQLite file in WAL mode.

It has none of what makes a governed registry: no audit journal or hash chain, no roles,
no per-model authorisation, no lifecycle, no input validation beyond what SQLite refuses.
Its throughput is therefore a floor for the cost of HTTP + SQLite per request, not a peer.

    python bench/registry_floor.py init  --home DIR            # schema and a token (printed)
    python bench/registry_floor.py serve --home DIR --port P [--workers N]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, user TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
    latest INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES models(id),
    version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    created_by TEXT NOT NULL, UNIQUE (model_id, version));
CREATE TABLE IF NOT EXISTS tags (
    version_id INTEGER NOT NULL REFERENCES versions(id), key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (version_id, key));
CREATE INDEX IF NOT EXISTS ix_tags_kv ON tags (key, value, version_id);
CREATE TABLE IF NOT EXISTS aliases (
    model_id INTEGER NOT NULL REFERENCES models(id), alias TEXT NOT NULL,
    version INTEGER NOT NULL, PRIMARY KEY (model_id, alias));
"""

HOME = Path(os.environ.get("FLOOR_HOME", "."))
_local = threading.local()


def db() -> sqlite3.Connection:
    """One connection per worker thread (sqlite3 connections are not shared across threads)."""
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(HOME / "floor.db", timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        _local.conn = conn
    return conn


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"status": status, "detail": detail}, status_code=status)


def _user(request: Request) -> str | None:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    row = db().execute("SELECT hash, user FROM tokens WHERE hash = ?", (digest,)).fetchone()
    return row[1] if row and hmac.compare_digest(row[0], digest) else None


def _model_id(name: str) -> int | None:
    row = db().execute("SELECT id FROM models WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def _version(model: str, version_id: int) -> dict[str, Any]:
    conn = db()
    number, sha, size = conn.execute(
        "SELECT version, sha256, size FROM versions WHERE id = ?", (version_id,)
    ).fetchone()
    tags = dict(conn.execute("SELECT key, value FROM tags WHERE version_id = ?", (version_id,)))
    return {"model": model, "version": number, "sha256": sha, "size": size, "tags": tags}


def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_model(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return _problem(401, "a bearer token is required")
    body = json.loads(_body_sync(request))
    try:
        db().execute("INSERT INTO models (name, owner) VALUES (?, ?)", (body["name"], user))
    except sqlite3.IntegrityError:
        return _problem(409, "exists")
    return JSONResponse({"name": body["name"], "owner": user}, status_code=201)


async def create_version(request: Request) -> Response:
    # Async only to read the multipart upload; the database work is the same as elsewhere.
    form = await request.form()
    upload = form["artifact"]
    payload = await upload.read()  # type: ignore[union-attr]
    metadata = json.loads(str(form["metadata"]))
    return await _run(_record_version, request, payload, metadata)


def _record_version(request: Request, payload: bytes, metadata: dict[str, Any]) -> Response:
    user = _user(request)
    if user is None:
        return _problem(401, "a bearer token is required")
    model = request.path_params["name"]
    sha = hashlib.sha256(payload).hexdigest()
    blob = HOME / "blobs" / sha
    if not blob.exists():
        tmp = blob.with_suffix(f".{secrets.token_hex(4)}")
        tmp.write_bytes(payload)
        os.replace(tmp, blob)
    conn = db()
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "UPDATE models SET latest = latest + 1 WHERE name = ? RETURNING id, latest", (model,)
        ).fetchone()
        if row is None:
            conn.execute("ROLLBACK")
            return _problem(404, "no such model")
        model_id, number = row
        cur = conn.execute(
            "INSERT INTO versions (model_id, version, sha256, size, created_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (model_id, number, sha, len(payload), user),
        )
        conn.executemany(
            "INSERT INTO tags (version_id, key, value) VALUES (?, ?, ?)",
            [(cur.lastrowid, k, str(v)) for k, v in (metadata.get("tags") or {}).items()],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return JSONResponse({"model": model, "version": number, "sha256": sha}, status_code=201)


def _one_version(request: Request, sql: str, key: Any) -> Response:
    """The version ``sql`` finds for (model name, ``key``), or 404."""
    if _user(request) is None:
        return _problem(401, "a bearer token is required")
    model = request.path_params["name"]
    row = db().execute(sql, (model, key)).fetchone()
    if row is None:
        return _problem(404, "not found")
    return JSONResponse(_version(model, int(row[0])))


def get_version(request: Request) -> Response:
    sql = (
        "SELECT v.id FROM versions v JOIN models m ON m.id = v.model_id "
        "WHERE m.name = ? AND v.version = ?"
    )
    return _one_version(request, sql, int(request.path_params["version"]))


def _limit(request: Request) -> int:
    return max(1, min(int(request.query_params.get("limit", "100")), 1000))


def list_versions(request: Request) -> Response:
    if _user(request) is None:
        return _problem(401, "a bearer token is required")
    model = request.path_params["name"]
    mid = _model_id(model)
    if mid is None:
        return _problem(404, "no such model")
    ids = (
        db()
        .execute(
            "SELECT id FROM versions WHERE model_id = ? ORDER BY version LIMIT ?",
            (mid, _limit(request)),
        )
        .fetchall()
    )
    return JSONResponse({"items": [_version(model, int(i)) for (i,) in ids]})


def search_versions(request: Request) -> Response:
    if _user(request) is None:
        return _problem(401, "a bearer token is required")
    key, _, value = request.query_params.get("tag", "").partition("=")
    rows = (
        db()
        .execute(
            "SELECT v.id, m.name FROM tags t JOIN versions v ON v.id = t.version_id "
            "JOIN models m ON m.id = v.model_id WHERE t.key = ? AND t.value = ? "
            "ORDER BY m.name, v.version LIMIT ?",
            (key, value, _limit(request)),
        )
        .fetchall()
    )
    return JSONResponse({"items": [_version(name, int(i)) for i, name in rows]})


def set_alias(request: Request) -> Response:
    if _user(request) is None:
        return _problem(401, "a bearer token is required")
    mid = _model_id(request.path_params["name"])
    if mid is None:
        return _problem(404, "no such model")
    version = int(json.loads(_body_sync(request))["version"])
    conn = db()
    if (
        conn.execute(
            "SELECT 1 FROM versions WHERE model_id = ? AND version = ?", (mid, version)
        ).fetchone()
        is None
    ):
        return _problem(404, "no such version")
    conn.execute(
        "INSERT INTO aliases (model_id, alias, version) VALUES (?, ?, ?) "
        "ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version",
        (mid, request.path_params["alias"], version),
    )
    return JSONResponse({"alias": request.path_params["alias"], "version": version})


def get_alias(request: Request) -> Response:
    sql = (
        "SELECT v.id FROM aliases a JOIN models m ON m.id = a.model_id "
        "JOIN versions v ON v.model_id = a.model_id AND v.version = a.version "
        "WHERE m.name = ? AND a.alias = ?"
    )
    return _one_version(request, sql, request.path_params["alias"])


def _body_sync(request: Request) -> bytes:
    body: bytes = request.state.body
    return body


async def _run(fn: Any, request: Request, *args: Any) -> Response:
    from starlette.concurrency import run_in_threadpool

    response: Response = await run_in_threadpool(fn, request, *args)
    return response


def _sync(fn: Any) -> Any:
    """A sync handler run in the thread pool, its request body read first (as FastAPI does)."""

    async def endpoint(request: Request) -> Response:
        request.state.body = await request.body()
        return await _run(fn, request)

    return endpoint


app = Starlette(
    routes=[
        Route("/health", _sync(health)),
        Route("/models", _sync(create_model), methods=["POST"]),
        Route("/models/{name}/versions", create_version, methods=["POST"]),
        Route("/models/{name}/versions", _sync(list_versions), methods=["GET"]),
        Route("/models/{name}/versions/{version:int}", _sync(get_version)),
        Route("/versions", _sync(search_versions)),
        Route("/models/{name}/aliases/{alias}", _sync(set_alias), methods=["PUT"]),
        Route("/models/{name}/aliases/{alias}", _sync(get_alias), methods=["GET"]),
    ]
)


def init(home: Path) -> str:
    home.mkdir(parents=True, exist_ok=True)
    (home / "blobs").mkdir(exist_ok=True)
    conn = sqlite3.connect(home / "floor.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO tokens (hash, user) VALUES (?, ?)",
        (hashlib.sha256(secret.encode()).hexdigest(), "bench"),
    )
    conn.commit()
    conn.close()
    return secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("init", "serve"))
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "init":
        print(json.dumps({"token": init(args.home)}))
        return 0
    import uvicorn

    os.environ["FLOOR_HOME"] = str(args.home.resolve())
    uvicorn.run(
        "registry_floor:app",
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
