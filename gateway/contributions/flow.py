"""The contributions area's steps: a partner payload in, minimised, sealed per participant and
stored, with one audit entry; an ``Idempotency-Key`` makes a retry safe
(draft-ietf-httpapi-idempotency-key-header): the same key with the same request gets the first
answer again and nothing is stored twice; the same key with another request is a 409.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.formats import adapters
from adapters.protocol import Adapter
from audit.actions import Action
from audit.schemas import Outcome
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
from gateway.errors import Conflict, GatewayError, InvalidInput, NotFound
from gateway.identity.vault import pseudonym
from gateway.runtime import Runtime

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
ADAPTERS = adapters()


class UnsupportedMediaType(GatewayError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


@dataclass(frozen=True)
class Answer:
    """The status and body of a contribution's answer (stored for an idempotent replay)."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def contribute(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    *,
    format_name: str,
    content_type: str | None,
    body: bytes,
    idempotency_key: str | None,
) -> Answer:
    """Parse in the partner's format, keep only catalogue data, seal and store, audit."""
    adapter = _adapter(format_name)
    _check_media_type(adapter, content_type)
    digest = hashlib.sha256(body).hexdigest()
    if idempotency_key is not None:
        replay = _claim_key(session, runtime, caller, idempotency_key, f"{format_name}\n{digest}")
        if replay is not None:
            return replay
    status, result = _ingest(adapter, body, digest, trace_id, caller, runtime, session)
    if idempotency_key is not None:
        stored = session.get(IdempotencyRecord, (caller.party, idempotency_key))
        assert stored is not None
        stored.response_status = status
        stored.response_body = result
        session.flush()
    return Answer(status, result)


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
) -> Answer | None:
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
    return Answer(existing.response_status, existing.response_body, replayed=True)


def _ingest(
    adapter: Adapter,
    body: bytes,
    digest: str,
    trace_id: str | None,
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
    runtime.trail.record(
        session,
        trace_id=trace_id,
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
