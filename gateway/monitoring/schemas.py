"""Requests and views of the monitoring area (the release document itself is built by the
``monitoring`` package and served as it was signed)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from consent.schemas import Name
from gateway.core.dates import Day

MONITORING_PURPOSE = "regional-monitoring"
STATISTICS_ROLE = "regional-statistics"
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^GM[0-9]{4}$")]
MethodCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{0,63}$")]


class ReleaseRequest(BaseModel):
    """What a region's statistics office asks to count; the gateway chooses the noise."""

    model_config = ConfigDict(extra="forbid")

    region: Name = Field(description="A region of the catalogue that keeps monitoring")
    since: Day = Field(description="Trajectories started on or after this day (2000-2100)")
    until: Day = Field(description="… and on or before this day (at most three years later)")
    area: Literal["municipality", "subregion"] = Field(
        default="subregion", description="Count per municipality or per subregion"
    )
    municipalities: list[MunicipalityCode] = Field(
        default_factory=list, max_length=50, description="Only these municipalities (CBS codes)"
    )
    methods: list[MethodCode] = Field(
        default_factory=list, max_length=10, description="Only these methods"
    )
    epsilon: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="The privacy budget this release spends; default the region's per release",
    )


class Signature(BaseModel):
    """A detached JWS (RFC 7515 Appendix F, EdDSA) over the release's RFC 8785 bytes."""

    alg: str
    kid: str
    jws: str = Field(description="header..signature: the payload is the release, canonical")
    jwks_uri: str


class SignedRelease(BaseModel):
    """A stored release as it was published, with its signature."""

    release: dict[str, Any]
    signature: Signature


class ReleaseSummary(BaseModel):
    id: str
    region: str
    created_at: datetime
    requested_by: str
    epsilon: float


class LedgerLine(BaseModel):
    release_id: str
    party: str
    epsilon: float
    spent_after: float
    at: datetime


class BudgetView(BaseModel):
    """A region's privacy budget for one year: what it is, what was spent, by which release."""

    region: str
    year: int
    total: float
    spent: float
    left: float
    ledger: list[LedgerLine]


class RegionCounting(BaseModel):
    """Whether, and on what ground, a region's releases count the participant."""

    region: str
    name: str
    basis: Literal["consent", "agreement"]
    agreement: str | None
    counted: bool | None = Field(
        description="Whether the region's releases count the participant now; null when the "
        "policy engine cannot say just now (code `policy-engine-unavailable`)"
    )
    categories: list[str]
    code: str = Field(description="The policy's reason code: why counted or not")


class MyCounting(BaseModel):
    """What regional monitoring counts about the participant, and whether they objected."""

    objected: bool
    what_is_counted: list[str]
    regions: list[RegionCounting]
