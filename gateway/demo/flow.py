"""The demo login's step: a participant token for a seeded demo participant, and for nobody else.

In production a participant logs in at an OpenID Connect provider (a DigiD broker); this stands
in for it on the embedded default (``SCHAKEL_DEMO_LOGIN=true``), and only for the demo BSNs.
"""

from __future__ import annotations

from gateway.demo.seed import DEMO_PARTICIPANTS
from gateway.errors import AuthenticationFailed
from gateway.runtime import Runtime


def demo_participant_token(runtime: Runtime, bsn: str) -> str:
    """A participant token for a demo BSN; 401 for any other."""
    if bsn not in {participant.bsn for participant in DEMO_PARTICIPANTS}:
        raise AuthenticationFailed("not a demo participant", error="invalid_grant")
    return runtime.participants.issue_demo_token(bsn, runtime.clock())
