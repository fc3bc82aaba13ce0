"""Demo login for the seeded demo participants (only when SCHAKEL_DEMO_LOGIN=true).

In production a participant logs in at an OpenID Connect provider (a DigiD broker); this stands
in for it on the embedded default, and only for the demo BSNs.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from gateway.demo.seed import DEMO_PARTICIPANTS
from gateway.deps import RuntimeDep
from gateway.errors import AuthenticationFailed

router = APIRouter(prefix="/v1/demo", tags=["demo"])


class DemoLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bsn: str


class ParticipantToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret
    expires_in: int = 3600


@router.post("/login", summary="Log in as a demo participant (embedded demo only)")
def demo_login(login: DemoLogin, runtime: RuntimeDep) -> ParticipantToken:
    if login.bsn not in {participant.bsn for participant in DEMO_PARTICIPANTS}:
        raise AuthenticationFailed("not a demo participant", error="invalid_grant")
    return ParticipantToken(
        access_token=runtime.participants.issue_demo_token(login.bsn, runtime.clock())
    )
