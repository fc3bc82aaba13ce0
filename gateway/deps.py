"""Typed FastAPI dependencies: the runtime, a per-request transaction, the calling partner."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gateway.auth.access_tokens import Caller, authenticate_bearer, invalid_token
from gateway.clock import Clock
from gateway.db import read_transaction, transaction
from gateway.identity.models import Participant
from gateway.identity.vault import enrol
from gateway.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """Async, so FastAPI resolves it on the event loop instead of a thread-pool round trip."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request, committed by the gateway when the handler returns."""
    with transaction(runtime.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_clock(runtime: RuntimeDep) -> Clock:
    """Async for the same reason as get_runtime."""
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_caller(request: Request, runtime: RuntimeDep) -> Caller:
    """The partner behind the bearer token (RFC 6750 §2.1); 401 with a challenge otherwise.

    The party look-up has a short, read-only transaction of its own: it never queues behind
    writers, and handlers that run their own transaction (the disclosure flow) never wait on it.
    """
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("a bearer access token from /oauth/token is required")
    with read_transaction(runtime.sessions) as session:
        return authenticate_bearer(
            session=session,
            key=runtime.token_key,
            issuer=runtime.settings.issuer,
            token=token.strip(),
            now=runtime.clock(),
        )


PartnerDep = Annotated[Caller, Depends(get_caller)]


def get_participant(request: Request, runtime: RuntimeDep, session: SessionDep) -> Participant:
    """The participant behind the token of their identity provider, enrolled on first login."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("a participant token from the identity provider is required")
    now = runtime.clock()
    identity = runtime.participants.verify(token.strip(), now)
    return enrol(
        session=session,
        keys=runtime.identity_keys,
        bsn=identity.bsn,
        domains=runtime.catalogue.domains,
        now=now,
    )


ParticipantDep = Annotated[Participant, Depends(get_participant)]
