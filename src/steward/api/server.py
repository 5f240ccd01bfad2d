"""Process entry points for serving the API (used by `steward server`)."""

from __future__ import annotations

from fastapi import FastAPI

from steward import bootstrap
from steward.api import observability
from steward.api.app import create_app
from steward.settings import Settings


def make_app() -> FastAPI:
    """uvicorn factory: settings from the environment, schema must already be current."""
    settings = Settings.from_env()
    observability.configure_logging(settings.log_format)
    return create_app(bootstrap.build(settings))
