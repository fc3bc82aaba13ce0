"""Typed FastAPI dependencies: the runtime, a per-request transaction, the calling partner."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import contextmanager_in_threadpool
from sqlalchemy.orm import Session

from bsn import holds_bsn
from gateway.auth.access_tokens import (
    Caller,
    VerifiedToken,
    caller_of,
    invalid_token,
    token_overlap,
    verify_bearer,
)
from gateway.core.clock import Clock
from gateway.core.db import read_transaction, transaction, write_turn
from gateway.errors import ActingUserRequired, InvalidInput
from gateway.identity.models import Participant
from gateway.identity.vault import enrol
from gateway.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """Async, so FastAPI resolves it on the event loop instead of a thread-pool round trip."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """One transaction per request, committed by the gateway when the handler returns.

    The body is read first: a client slow to send it must not hold SQLite's turn to write,
    which is then waited for on the event loop (write_turn). The transaction is opened and
    committed on worker threads, the commit shielded from cancellation.
    """
    await request.body()
    async with (
        write_turn(runtime.sessions),
        contextmanager_in_threadpool(transaction(runtime.sessions)) as session,
    ):
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_trace_id(request: Request) -> str | None:
    """The W3C trace id the middleware bound to this request; audit entries carry it."""
    trace_id: str | None = getattr(request.state, "trace_id", None)
    return trace_id


TraceDep = Annotated[str | None, Depends(get_trace_id)]


async def get_clock(runtime: RuntimeDep) -> Clock:
    """Async for the same reason as get_runtime."""
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_bearer(request: Request, runtime: RuntimeDep) -> VerifiedToken:
    """The bearer token (RFC 6750 §2.1), checked without the database; 401 with a challenge.

    Async: the signature check of a known token is remembered, so this costs less than the
    thread-pool round trip a sync dependency would take. A bad token is refused before the
    body is looked at.
    """
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("a bearer access token from /oauth/token is required")
    settings = runtime.settings
    return verify_bearer(
        keys=runtime.token_keys,
        issuer=settings.issuer,
        token=token.strip(),
        now=runtime.clock(),
        overlap=token_overlap(settings),
    )


BearerDep = Annotated[VerifiedToken, Depends(get_bearer)]


def get_caller(bearer: BearerDep, runtime: RuntimeDep) -> Caller:
    """The partner behind the bearer token, if its party is still enabled.

    The party look-up has a short, read-only transaction of its own: it never queues behind
    writers. The disclosure flow instead looks the party up in its own transaction
    (:func:`gateway.auth.access_tokens.caller_of`), which saves a transaction per disclosure.
    """
    with read_transaction(runtime.sessions) as session:
        return caller_of(session, bearer)


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


ACTING_USER_HEADER = "X-Schakel-User"
_ACTING_USER = re.compile(r"[\x21-\x7e]{1,64}")


async def get_acting_user(request: Request) -> str:
    """The professional acting at the partner, as the partner system's own user id.

    NEN 7513 asks who looked, not only which system: a request that reads case data names the
    person in ``X-Schakel-User`` (as X-Road's ``X-Road-UserId``), and the audit entry keeps it.
    Documented as the ``actingUser`` security scheme beside the partner token
    (``gateway.openapi``); missing or malformed, 400 names the header; a BSN in its place is
    refused (422): the log never names people by BSN.
    """
    given = request.headers.get(ACTING_USER_HEADER)
    if given is None or not _ACTING_USER.fullmatch(given):
        raise ActingUserRequired(
            f"{ACTING_USER_HEADER}: name the professional acting, with your system's own stable "
            "user id (1 to 64 printable characters, no spaces)",
            errors=[{
                "parameter": f"header:{ACTING_USER_HEADER}",
                "detail": "missing" if given is None else "not 1 to 64 printable characters",
            }],
        )  # fmt: skip
    if holds_bsn(given):
        raise InvalidInput(
            f"{ACTING_USER_HEADER}: a user id of your own system, not a BSN",
            errors=[{"parameter": f"header:{ACTING_USER_HEADER}", "detail": "holds a BSN"}],
        )
    return given


ActingUserDep = Annotated[str, Depends(get_acting_user)]
