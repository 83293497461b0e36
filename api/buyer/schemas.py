"""Request bodies of the buyer's JSON steps (`/api/v1/buyer/{token}`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cg_accepted: bool
    iban: str = Field(max_length=64)
    account_holder: str = Field(max_length=200)
    no_claim_since_sent: bool


class SignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: str = Field(min_length=1, max_length=200)
