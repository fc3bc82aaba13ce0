"""Demo login for the seeded demo participants (only when SCHAKEL_DEMO_LOGIN=true)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from gateway.demo.flow import demo_participant_token
from gateway.deps import RuntimeDep

router = APIRouter(prefix="/v1/demo", tags=["demo"])


class DemoLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bsn: str


class ParticipantToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret
    expires_in: int = 3600


@router.post(
    "/login",
    summary="Log in as a demo participant (embedded demo only)",
    responses={401: {"description": "Not a demo participant's BSN"}},
)
def demo_login(login: DemoLogin, runtime: RuntimeDep) -> ParticipantToken:
    return ParticipantToken(access_token=demo_participant_token(runtime, login.bsn))
