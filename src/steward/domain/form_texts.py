"""Where the translations of Steward's shipped forms live and how their words are read.

The risk questionnaire (:mod:`steward.domain.risk_texts`) and the impact assessment form
(:mod:`steward.domain.impact_texts`) are translated the same way: a YAML file per language
in ``steward.policies`` holds words only, keyed by ids; the English form stays the one
that is checked, scored and stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml


def words(node: Any, *, fold: bool = False) -> dict[str, str]:
    """A mapping of ids to words; ``fold`` joins a text's lines into one."""
    if not isinstance(node, dict):
        return {}
    return {
        str(k): " ".join(str(v).split()) if fold else str(v).strip()
        for k, v in node.items()
        if isinstance(v, str | int)
    }


def document(text: str, what: str) -> dict[str, Any]:
    """A translation file's YAML, which must be a mapping."""
    doc = yaml.safe_load(text) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{what} are a mapping")
    return doc


def shipped(files: Mapping[str, str], code: str) -> str | None:
    """The text of the shipped file for page language ``code``; None for English or unknown."""
    name = files.get(code)
    if name is None:
        return None
    return resources.files("steward.policies").joinpath(name).read_text("utf-8")
