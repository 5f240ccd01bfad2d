"""Web UI benchmark: server time of the inventory page at 10 k models (target ≤ 300 ms).

Populates an embedded SQLite store with ``--models`` models (bench/inventory.py's
bulk loader: labels, 1-3 versions each, some in production), signs in through the real
login form and times ``GET /`` in-process (ASGI app through Starlette's TestClient, so
the figure is server time: routing, session check, queries, Jinja2 rendering, no
network). The REST listing of the same 50 models, ``GET /api/v1/models?limit=50``, is
timed in the same run as the peer figure. ``--write-md`` replaces the "Web UI" section
of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inventory import populate
from report import machine, replace_section

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, tokens
from steward.settings import Settings

PASSWORD = "bench password 42"
TITLE = "## Web UI"


def timed(client: Any, url: str, runs: int, headers: dict[str, str] | None = None) -> list[float]:
    out = []
    for _ in range(runs + 3):
        start = time.perf_counter()
        response = client.get(url, headers=headers or {})
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return out[3:]  # the first three warm caches


def main(argv: list[str] | None = None) -> int:
    from fastapi.testclient import TestClient

    from steward.api.app import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--write-md", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings(
            home=home, database_url=f"sqlite:///{home / 'ui.db'}", artifacts_url=str(home / "a")
        )
        ctx = bootstrap.build(settings, migrate=True)
        populate(ctx, args.models)
        operator = Principal(name="admin", roles=frozenset({OPERATOR}))
        identity.create_user(ctx, operator, "val", roles=["validator"], password=PASSWORD)
        api_token = tokens.create_token(ctx, operator, user="val", name="bench").token
        with TestClient(create_app(ctx)) as client:
            login = client.get("/login")
            csrf = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed = client.post(
                "/login",
                data={"username": "val", "password": PASSWORD, "csrf_token": csrf, "next": "/"},
                follow_redirects=False,
            )
            assert signed.status_code == 303, signed.text
            first = client.get("/")
            deep = (
                first.text.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
            )
            scenarios = [
                ("inventory, first page (50 rows, by name)", "/"),
                ("inventory, sorted by risk tier", "/?sort=risk"),
                ("inventory, sorted by next review", "/?sort=review"),
                ("inventory, search `credit`", "/?q=credit"),
                ("inventory, models with a production version", "/?stage=production"),
                ("inventory, second page (keyset cursor)", deep),
            ]
            results = [(name, timed(client, url, args.runs)) for name, url in scenarios]
            bearer = {"Authorization": f"Bearer {api_token}"}
            client.cookies.clear()
            peer = timed(client, "/api/v1/models?limit=50", args.runs, bearer)
        ctx.uow.engine.dispose()
    lines = [
        TITLE,
        "",
        f"`python bench/ui.py` — {args.models:,} models (bench/inventory.py's generator) in "
        f"an embedded SQLite store; server time of each page measured in-process "
        f"(ASGI app via TestClient: session check, queries, Jinja2 rendering; no network), "
        f"{args.runs} requests after 3 warm-up ones. Target: ≤ 300 ms. Machine: {machine()}.",
        "",
        "| page | median ms | p95 ms |",
        "|---|---:|---:|",
    ]
    for name, values in results:
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        lines.append(f"| {name} | {statistics.median(values):.1f} | {p95:.1f} |")
    p95 = sorted(peer)[int(0.95 * (len(peer) - 1))]
    lines.append(
        f"| peer, same run: REST `GET /api/v1/models?limit=50` | "
        f"{statistics.median(peer):.1f} | {p95:.1f} |"
    )
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write_md:
        replace_section(TITLE, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
