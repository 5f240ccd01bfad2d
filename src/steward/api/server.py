"""Process entry points for serving the API (used by `steward server`)."""

from __future__ import annotations

from fastapi import FastAPI

from steward import bootstrap
from steward.api.app import create_app
from steward.settings import Settings


def make_app() -> FastAPI:
    """uvicorn factory: settings from the environment, schema must already be current."""
    return create_app(bootstrap.build(Settings.from_env()))
