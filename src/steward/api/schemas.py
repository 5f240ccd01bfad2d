"""Request bodies. Responses are the domain dataclasses themselves (see wire.py)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from steward.domain.entities import ModelStatus, PositiveMeans, RegulatoryCategory, RiskTier


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelFields(_Strict):
    title: str | None = None
    description: str | None = None
    purpose: str | None = None
    business_unit: str | None = None
    owner: str | None = None
    team: str | None = None
    risk_tier: RiskTier | None = None
    regulatory_category: RegulatoryCategory | None = None
    tags: list[str] | None = None
    status: ModelStatus | None = None
    next_review_date: date | None = None
    allow_multiple_production: bool | None = None
    positive_means: PositiveMeans | None = Field(
        default=None,
        description="What a positive prediction means for the person: favourable or adverse "
        "(fairness is measured on the favourable outcome)",
    )
    risk_override_reason: str | None = Field(
        default=None,
        description="Required with risk_tier/regulatory_category: why they are set by hand "
        "instead of by a risk assessment (needs risk:assess)",
    )


class ModelCreate(ModelFields):
    name: str = Field(description="Unique slug, e.g. credit-scoring")


class TransitionBody(_Strict):
    to: str = Field(description="Target stage, e.g. validation")
    justification: str = Field(description="Why the version should move")


class AliasBody(_Strict):
    version: int = Field(description="Version number the alias points at")


class TokenBody(_Strict):
    user: str
    name: str = ""
    expires_in_days: int | None = Field(
        default=None, description="Days until it expires (at least 1); omit for never"
    )


class WitnessBody(_Strict):
    name: str = Field(max_length=200, description="The witness's name (its key's name)")
    public_key: str = Field(
        max_length=500, description="Signed-note verifier key NAME+KEYID+BASE64KEY (Ed25519)"
    )


class CosignatureBody(_Strict):
    note: str = Field(
        max_length=20_000,
        description="The checkpoint note with the witness's signature line(s) added",
    )


class PreferencesBody(_Strict):
    email_kinds: list[str] | None = Field(
        default=None, description="Kinds that are e-mailed (the others stay in-app only)"
    )
    delivery: str | None = Field(default=None, description="immediate or digest (daily)")
    language: str | None = Field(
        default=None, description="en or zh-TW; empty for the organisation's"
    )
    timezone: str | None = Field(
        default=None, description="IANA time zone; empty for the organisation's"
    )
