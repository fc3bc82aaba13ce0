"""Webhook receivers over HTTP: a party registers one (the secret is shown once); operators see
and retry the dead-letter list."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from gateway.auth.access_tokens import Caller
from gateway.auth.roles import OPERATOR_ROLE, require_role
from gateway.deps import PartnerDep, RuntimeDep, SessionDep, TraceDep
from gateway.errors import NotFound
from gateway.runtime import Runtime
from gateway.signals.webhooks import new_secret, seal_secret
from plan import outbox
from plan.models import WebhookMessage

router = APIRouter(prefix="/v1/webhooks", tags=["partner: webhooks"])
operator_router = APIRouter(prefix="/v1/webhooks/dead-letters", tags=["operators"])


class EndpointRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(
        description="Where to POST notifications: https, or http to this machine's loopback only"
    )

    @field_validator("url")
    @classmethod
    def _reachable_safely(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        """No plain http across a network, and no private or link-local address literals (SSRF)."""
        if url.username is not None or url.password is not None:
            raise ValueError(
                "a webhook URL carries no user or password: it is kept in the audit log, and a "
                "receiver knows a delivery by its webhook-signature"
            )
        host = (url.host or "").strip("[]")
        loopback = host == "localhost" or _is_ip(host, "is_loopback")
        if url.scheme != "https" and not loopback:
            raise ValueError("a webhook receiver must use https (http only on loopback)")
        if not loopback and any(
            _is_ip(host, flag)
            for flag in (
                "is_private",
                "is_link_local",
                "is_reserved",
                "is_multicast",
                "is_unspecified",
            )
        ):
            raise ValueError(
                "a webhook receiver may not be a private, link-local or reserved address"
            )
        return url


def _is_ip(host: str, flag: str) -> bool:
    try:
        return bool(getattr(ipaddress.ip_address(host), flag))
    except ValueError:
        return False


class EndpointView(BaseModel):
    url: str
    registered_at: datetime


class RegisteredEndpoint(EndpointView):
    secret: str = Field(
        description="Standard Webhooks signing secret (whsec_…); shown only now — store it"
    )


class MessageView(BaseModel):
    id: str
    party: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


def message_view(message: WebhookMessage) -> MessageView:
    return MessageView(
        id=message.id, party=message.party, event_type=message.event_type,
        status=message.status, attempts=message.attempts,
        next_attempt_at=message.next_attempt_at if message.status == outbox.PENDING else None,
        last_error=message.last_error, created_at=message.created_at,
        finished_at=message.finished_at,
    )  # fmt: skip


def _audit(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    action: Action,
    reason: str,
) -> None:
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action=action, outcome=Outcome.OK, reason=reason,
    )  # fmt: skip


@router.put("/endpoint", summary="Register (or replace) your webhook receiver; a new secret")
def register_endpoint(
    body: EndpointRegistration,
    trace_id: TraceDep,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> RegisteredEndpoint:
    text, raw = new_secret()
    sealed, key_id = seal_secret(runtime.keks, caller.party, raw)
    endpoint = outbox.register_endpoint(
        session=session, party=caller.party, url=str(body.url), sealed_secret=sealed,
        key_id=key_id, clock=runtime.clock,
    )  # fmt: skip
    _audit(session, runtime, trace_id, caller, Action.WEBHOOK_REGISTER, f"receiver {endpoint.url}")
    return RegisteredEndpoint(url=endpoint.url, registered_at=endpoint.created_at, secret=text)


NO_RECEIVER: dict[int | str, dict[str, Any]] = {
    404: {"description": "Your party has no webhook receiver"}
}


@router.get("/endpoint", summary="Your webhook receiver (never the secret)", responses=NO_RECEIVER)
def my_endpoint(caller: PartnerDep, session: SessionDep) -> EndpointView:
    endpoint = outbox.endpoint_of(session=session, party=caller.party)
    if endpoint is None:
        raise NotFound("your party has no webhook receiver; poll /v1/signals/feed instead")
    return EndpointView(url=endpoint.url, registered_at=endpoint.created_at)


@router.delete(
    "/endpoint",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop webhooks to your party",
    responses=NO_RECEIVER,
)
def remove_endpoint(
    caller: PartnerDep, runtime: RuntimeDep, session: SessionDep, trace_id: TraceDep
) -> Response:
    if not outbox.remove_endpoint(session=session, party=caller.party):
        raise NotFound("your party has no webhook receiver")
    _audit(session, runtime, trace_id, caller, Action.WEBHOOK_REMOVE, "receiver removed")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/messages", summary="Your webhook messages and their delivery state")
def my_messages(caller: PartnerDep, session: SessionDep) -> list[MessageView]:
    return [message_view(m) for m in outbox.messages_for(session=session, party=caller.party)]


def _operator(caller: Caller) -> None:
    require_role(
        caller, OPERATOR_ROLE, "the dead-letter list is for a party with the operator role"
    )


@operator_router.get(
    "",
    summary="Webhook messages given up on after the last attempt (operator role)",
    responses={403: {"description": "The caller's party does not hold the operator role"}},
)
def dead_letters(
    trace_id: TraceDep,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MessageView]:
    """Delivery state only: the payloads (which name participants) are not shown to operators."""
    _operator(caller)
    letters = outbox.dead_letters(session=session, limit=limit)
    _audit(
        session, runtime, trace_id, caller, Action.WEBHOOK_DEAD_LETTERS, f"{len(letters)} listed"
    )
    return [message_view(m) for m in letters]


@operator_router.post(
    "/{message_id}/retry",
    summary="Give a dead-lettered message a fresh round of attempts (operator role)",
    responses={403: {"description": "The caller's party does not hold the operator role"}},
)
def retry_dead_letter(
    message_id: str,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    trace_id: TraceDep,
) -> MessageView:
    _operator(caller)
    message = outbox.requeue(session=session, message_id=message_id, clock=runtime.clock)
    _audit(session, runtime, trace_id, caller, Action.WEBHOOK_RETRY, f"message {message_id}")
    return message_view(message)
