"""``POST /v1/adapters/{format}/contributions``: a partner payload in, sealed contributions stored.

Retries are safe with an ``Idempotency-Key`` header (draft-ietf-httpapi-idempotency-key-header):
the same key with the same request gets the first answer again and nothing is stored twice; the
same key with another request is a 409.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.formats import adapters
from adapters.protocol import Adapter
from audit.actions import Action
from audit.schemas import Outcome
from gateway.audit_log.trail import record
from gateway.auth.access_tokens import Caller
from gateway.contributions.models import IdempotencyRecord
from gateway.contributions.schemas import IngestResult
from gateway.contributions.service import (
    check_sources,
    dropped_views,
    minimise,
    resolve_participant,
    store_all,
)
from gateway.deps import PartnerDep, RuntimeDep, SessionDep
from gateway.errors import Conflict, GatewayError, InvalidInput, NotFound
from gateway.identity.vault import pseudonym
from gateway.runtime import Runtime

router = APIRouter(prefix="/v1/adapters", tags=["partner systems"])
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
ADAPTERS = adapters()


class UnsupportedMediaType(GatewayError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


async def request_body(request: Request) -> bytes:
    """The raw body; the body-size middleware stops it at the limit (413) while it streams in."""
    return await request.body()


BodyDep = Annotated[bytes, Depends(request_body)]


@router.post(
    "/{format}/contributions",
    summary="Contribute case data in a partner format (ggz-fhir, uwv-xml, uwv-json, gemeente-zgw)",
    response_model=IngestResult,
    status_code=201,
    responses={
        200: {"description": "Nothing was stored: every item was dropped (see `dropped`)"},
        400: {"description": "Not well-formed (JSON, XML; DTDs and entities are refused)"},
        403: {"description": "A category the caller's domain is not a source of"},
        404: {"description": "Unknown format"},
        409: {"description": "Idempotency-Key reused for another request"},
        413: {"description": "Body over the size limit"},
        415: {"description": "Content type not accepted by this format"},
        422: {"description": "Invalid payload; `errors` name each fault's location"},
    },
)
def contribute(
    format: str,
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    body: BodyDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    adapter = _adapter(format)
    _check_media_type(adapter, request.headers.get("content-type"))
    digest = hashlib.sha256(body).hexdigest()
    if idempotency_key is not None:
        replay = _claim_key(session, runtime, caller, idempotency_key, f"{format}\n{digest}")
        if replay is not None:
            return replay
    status, result = _ingest(adapter, body, digest, request, caller, runtime, session)
    if idempotency_key is not None:
        stored = session.get(IdempotencyRecord, (caller.party, idempotency_key))
        assert stored is not None
        stored.response_status = status
        stored.response_body = result
        session.flush()
    return JSONResponse(result, status_code=status)


def _adapter(name: str) -> Adapter:
    if name not in ADAPTERS:
        raise NotFound(f"unknown format {name!r}; formats: {', '.join(sorted(ADAPTERS))}")
    return ADAPTERS[name]


def _check_media_type(adapter: Adapter, content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in adapter.media_types:
        raise UnsupportedMediaType(
            f"{adapter.format} takes {', '.join(sorted(adapter.media_types))}, "
            f"not {media_type or 'a body without Content-Type'}"
        )


def _claim_key(
    session: Session, runtime: Runtime, caller: Caller, key: str, request_digest: str
) -> JSONResponse | None:
    """The stored answer for a repeat; None after claiming the key for this request."""
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput(
            "Idempotency-Key is 1-255 visible ASCII characters", field="Idempotency-Key"
        )
    fingerprint = hashlib.sha256(request_digest.encode("ascii")).hexdigest()
    existing = session.get(IdempotencyRecord, (caller.party, key))
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyRecord(
                        party=caller.party, key=key, request_sha256=fingerprint,
                        response_status=0, response_body={}, created_at=runtime.clock(),
                    )
                )  # fmt: skip
                session.flush()
        except IntegrityError:
            raise Conflict("a request with this Idempotency-Key is in progress; retry") from None
        return None
    if existing.request_sha256 != fingerprint:
        raise Conflict("this Idempotency-Key was used for another request")
    return JSONResponse(
        existing.response_body,
        status_code=existing.response_status,
        headers={"Idempotent-Replayed": "true"},
    )


def _ingest(
    adapter: Adapter,
    body: bytes,
    digest: str,
    request: Request,
    caller: Caller,
    runtime: Runtime,
    session: Session,
) -> tuple[int, dict[str, Any]]:
    parsed = adapter.parse(body)
    subject = parsed.participant
    if subject is None:
        raise InvalidInput("the payload names no participant")
    check_sources(caller, parsed, runtime.catalogue.sources)
    now = runtime.clock()
    participant = resolve_participant(
        session=session,
        keys=runtime.identity_keys,
        caller=caller,
        subject=subject,
        domains=runtime.catalogue.domains,
        now=now,
    )
    minimal = minimise(parsed, runtime.catalogue)
    accepted = store_all(
        session=session, keks=runtime.keks, caller=caller, participant=participant,
        kept=minimal.kept, now=now,
    )  # fmt: skip
    record(
        session=session,
        runtime=runtime,
        request=request,
        actor_party=caller.party,
        actor_domain=caller.domain,
        action=Action.RECORD_SUBMIT,
        outcome=Outcome.OK,
        participant=participant,
        categories=sorted({item.category for item in accepted}),
        reason=f"{adapter.format}: {len(accepted)} accepted, {len(minimal.dropped)} dropped",
        payload_digest=digest,
    )
    result = IngestResult(
        format=adapter.format,
        subject_pseudonym=pseudonym(runtime.identity_keys, caller.domain, participant.id),
        accepted=accepted,
        dropped=dropped_views(minimal.dropped),
    )
    return (201 if accepted else 200), result.model_dump(mode="json")
