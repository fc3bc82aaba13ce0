"""The privacy officer's queries of the audit log, shared by the API, the exports, the statistics
and the dashboard: the one place that decides which entries an officer may read.

Oversight is per organisation: a ``privacy-officer`` reads the entries in which their organisation
acted and the entries about participants their organisation contributed data about; only a
``regional-privacy-officer`` (the operator's officer, a role given explicitly) reads the whole
log. A query outside the scope (a participant the organisation has nothing to do with, an entry
of another organisation) is refused, not answered empty.

Every officer query is itself an entry (``audit.query``), refusals included: a refusal is
recorded (the entry is committed, then 403 is answered). Answered queries are recorded after
reading, so a query never appears in its own answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, NoReturn

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.append import head
from audit.chain import format_timestamp
from audit.checkpoint import (
    cosignatures_of,
    latest_checkpoint,
    latest_tree_checkpoint,
    published_note,
)
from audit.errors import EntryNotFound, InvalidAuditQuery, NoSuchCheckpoint, NotCheckpointed
from audit.export import csv_lines, ndjson_lines
from audit.keys import public_keys
from audit.models import AuditCheckpoint, AuditEntry
from audit.note import ED25519, Verifier
from audit.proofs import ConsistencyBundle, InclusionBundle
from audit.proving import consistency_bundle, inclusion_bundle, published
from audit.query import daily_statistics, entry_by_seq, entry_document, find_documents, find_entries
from audit.schemas import (
    MAX_PAGE,
    AuditDraft,
    AuditQuery,
    CheckpointView,
    DailyStatistic,
    LogView,
    Outcome,
    OversightScope,
    WitnessView,
)
from bsn import is_valid_bsn
from consent.schemas import ConsentView
from consent.service import list_consents
from gateway.audit_log.grounds import ConsentGround, grounds
from gateway.audit_log.unusual import Finding, Thresholds, find_unusual
from gateway.auth.access_tokens import Caller
from gateway.auth.roles import OFFICER_ROLE, OFFICER_ROLES, REGIONAL_OFFICER_ROLE
from gateway.core.db import transaction
from gateway.errors import Conflict, ForbiddenOnRecord, InvalidInput, NotFound, NotFoundOnRecord
from gateway.identity.models import DomainPseudonym, Participant
from gateway.identity.vault import AUDIT_DOMAIN, find_by_bsn, pseudonym
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from gateway.storage.models import Contribution

NO_SUCH_SUBJECT = "unknown-participant"  # matches no entry: entries hold 64-hex pseudonyms
EXPORT_BATCH = 500


@dataclass(frozen=True)
class Filters:
    """What an officer searches for; ``recorded_from`` inclusive, ``recorded_until`` exclusive."""

    subject_ref: str | None = None
    party: str | None = None
    actor_user: str | None = None
    action: str | None = None
    purpose: str | None = None
    outcome: Outcome | None = None
    recorded_from: datetime | None = None
    recorded_until: datetime | None = None
    hide_queries_by: str | None = None


@dataclass(frozen=True)
class OfficerAsk:
    """An officer's request: who asks, for what (as the audit entry describes it), in which trace."""

    caller: Caller
    description: str
    trace_id: str | None


def describe(endpoint: str, parameters: Mapping[str, str]) -> str:
    """The query as its audit entry records it: the endpoint and the parameters as given."""
    return json.dumps({"endpoint": endpoint, **parameters}, sort_keys=True, ensure_ascii=False)


def _record_query(
    session: Session, runtime: Runtime, ask: OfficerAsk, outcome: Outcome, reason: str,
    subject_ref: str | None,
) -> None:  # fmt: skip
    runtime.trail.append(
        session,
        AuditDraft(
            trace_id=ask.trace_id,
            actor_party=ask.caller.party,
            actor_domain=ask.caller.domain,
            action=Action.AUDIT_QUERY,
            subject_ref=subject_ref,
            outcome=outcome,
            reason=reason[:1000],
        ),
    )


def oversight_scope(session: Session, runtime: Runtime, caller: Caller) -> OversightScope | None:
    """The part of the log the caller's organisation oversees; none: the whole log."""
    if REGIONAL_OFFICER_ROLE in caller.roles:
        return None
    contributed = session.scalars(
        select(Contribution.participant_id)
        .where(Contribution.source_party == caller.party)
        .distinct()
    )
    keys = runtime.identity_keys
    return OversightScope(
        party=caller.party,
        subject_refs=frozenset(pseudonym(keys, AUDIT_DOMAIN, pid) for pid in contributed),
    )


def _in_scope(scope: OversightScope | None, actor_party: str, subject_ref: str | None) -> bool:
    return scope is None or actor_party == scope.party or subject_ref in scope.subject_refs


def _refuse_outside_scope(
    session: Session, runtime: Runtime, ask: OfficerAsk, subject: str | None, what: str
) -> NoReturn:
    _record_query(
        session, runtime, ask, Outcome.DENY, f"outside the organisation's scope: {what}", subject
    )
    raise ForbiddenOnRecord(
        f"{what} is outside the part of the log your organisation oversees",
        error="insufficient_scope",
    )


def officer_query(
    session: Session, runtime: Runtime, ask: OfficerAsk, filters: Filters, **paging: Any
) -> AuditQuery:
    """Refuse (on record) unless the caller is a privacy officer and the participant asked about
    is in their organisation's scope; the query then reads that scope only."""
    subject = subject_filter(session, runtime, filters.subject_ref)
    if not OFFICER_ROLES & set(ask.caller.roles):
        _record_query(
            session, runtime, ask, Outcome.DENY, f"not a privacy officer: {ask.description}",
            subject,
        )  # fmt: skip
        raise ForbiddenOnRecord(
            f"the audit log is open to parties with the {OFFICER_ROLE} role only",
            error="insufficient_scope",
        )
    try:
        query = AuditQuery(**{**asdict(filters), "subject_ref": subject}, **paging)
    except InvalidAuditQuery as error:
        raise InvalidInput(str(error)) from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None
    if query.party is not None and find_party(session, query.party) is None:
        raise InvalidInput(f"unknown party {query.party!r}", field="party")
    scope = oversight_scope(session, runtime, ask.caller)
    if scope is not None and subject is not None and subject not in scope.subject_refs:
        # The organisation's own searches (a refusal of this very one too) are no part in the case.
        acted = AuditQuery(
            subject_ref=subject, party=scope.party, hide_queries_by=scope.party, limit=1
        )
        if not find_entries(session=session, query=acted)[0]:
            _refuse_outside_scope(session, runtime, ask, subject, "this participant")
    return query.model_copy(update={"within": scope})


def answered(session: Session, runtime: Runtime, ask: OfficerAsk, subject_ref: str | None) -> None:
    """Record an answered officer query, after reading, so it never appears in its own answer."""
    _record_query(session, runtime, ask, Outcome.OK, ask.description, subject_ref)


def subject_filter(session: Session, runtime: Runtime, given: str | None) -> str | None:
    """Officers name a participant by BSN or any domain pseudonym; entries hold the audit one."""
    if given is None:
        return None
    if re.fullmatch(r"[0-9a-f]{64}", given.lower()):
        participant_id = _by_domain_pseudonym(session, given.lower())
        if participant_id is None:
            return given.lower()  # not ours: it can only match entries that carry it verbatim
    else:
        participant_id = _by_bsn(session, runtime, given)
    if participant_id is None:
        return NO_SUCH_SUBJECT
    return pseudonym(runtime.identity_keys, AUDIT_DOMAIN, participant_id)


def participant_named(session: Session, runtime: Runtime, given: str) -> str | None:
    """The participant id behind a BSN or any of its pseudonyms, the audit one included."""
    if not re.fullmatch(r"[0-9a-f]{64}", given.lower()):
        return _by_bsn(session, runtime, given)
    return _by_domain_pseudonym(session, given.lower()) or _by_audit_pseudonym(
        session, runtime, given.lower()
    )


def _by_bsn(session: Session, runtime: Runtime, given: str) -> str | None:
    if not re.fullmatch(r"[0-9]{9}", given):
        raise InvalidInput(
            "subject_ref is a BSN or a participant pseudonym (64 hex digits)", field="subject_ref"
        )
    if not is_valid_bsn(given):
        raise InvalidInput("subject_ref: the BSN fails the 11-proof", field="subject_ref")
    found = find_by_bsn(session, runtime.identity_keys, given)
    return found.id if found is not None else None


def _by_domain_pseudonym(session: Session, given: str) -> str | None:
    row = session.scalars(select(DomainPseudonym).where(DomainPseudonym.pseudonym == given)).first()
    return row.participant_id if row is not None else None


def _by_audit_pseudonym(session: Session, runtime: Runtime, reference: str) -> str | None:
    """The audit pseudonym is kept in no table; the participants named in entries are tried."""
    for participant_id in session.scalars(select(Participant.id)):
        if pseudonym(runtime.identity_keys, AUDIT_DOMAIN, participant_id) == reference:
            return participant_id
    return None


def search(
    session: Session,
    runtime: Runtime,
    ask: OfficerAsk,
    filters: Filters,
    *,
    after_seq: int = 0,
    limit: int,
    newest_first: bool = False,
    before_seq: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of an officer's search (entry documents) and the next page's cursor; audited.
    Oldest first pages on with ``after_seq``, newest first back with ``before_seq``."""
    query = officer_query(
        session, runtime, ask, filters, after_seq=after_seq, limit=limit,
        newest_first=newest_first, before_seq=before_seq,
    )  # fmt: skip
    documents, cursor = find_documents(session=session, query=query)
    answered(session, runtime, ask, query.subject_ref)
    return documents, cursor


def entry(session: Session, runtime: Runtime, ask: OfficerAsk, seq: int) -> dict[str, Any]:
    """One entry's document, if in the caller's scope; audited, a refusal too."""
    found = _entry_in_scope(session, runtime, ask, seq)
    answered(session, runtime, ask, found.subject_ref)
    return entry_document(found)


def _entry_in_scope(session: Session, runtime: Runtime, ask: OfficerAsk, seq: int) -> AuditEntry:
    """Entry ``seq`` if it is in the caller's scope; a missing one and one outside the scope
    are each refused on record."""
    query = officer_query(session, runtime, ask, Filters())
    try:
        found = entry_by_seq(session, seq)
    except EntryNotFound as error:
        _record_query(session, runtime, ask, Outcome.DENY, f"{error}: {ask.description}", None)
        raise NotFoundOnRecord(str(error)) from None
    if not _in_scope(query.within, found.actor_party, found.subject_ref):
        _refuse_outside_scope(session, runtime, ask, found.subject_ref, f"entry {seq}")
    return found


def statistics(
    session: Session, runtime: Runtime, ask: OfficerAsk, filters: Filters
) -> list[DailyStatistic]:
    """Entries per acting party per UTC day, by outcome; audited."""
    query = officer_query(session, runtime, ask, filters)
    result = daily_statistics(session=session, query=query)
    answered(session, runtime, ask, query.subject_ref)
    return result


def unusual_activity(session: Session, runtime: Runtime, ask: OfficerAsk) -> list[Finding]:
    """The unusual-activity rules over the window that ends now; audited."""
    query = officer_query(session, runtime, ask, Filters())
    found = find_unusual(
        session, Thresholds.of(runtime.settings), runtime.clock(), within=query.within
    )
    answered(session, runtime, ask, None)
    return found


@dataclass(frozen=True)
class Timeline:
    """One participant's entries, newest first, with the consents the disclosures relied on."""

    subject_ref: str
    entries: list[dict[str, Any]]
    grounds: dict[str, ConsentGround]
    next_before_seq: int | None


def timeline(
    session: Session,
    runtime: Runtime,
    ask: OfficerAsk,
    subject: str,
    *,
    before_seq: int | None,
    limit: int,
    hide_own_queries: bool = True,
) -> Timeline:
    """Who saw this participant's data and on what grounds: a search for one participant,
    newest first, each disclosure with the consent versions it relied on; audited."""
    filters = Filters(
        subject_ref=subject, hide_queries_by=ask.caller.party if hide_own_queries else None
    )
    documents, cursor = search(
        session, runtime, ask, filters, limit=limit, newest_first=True, before_seq=before_seq
    )
    relied_on = [consent for document in documents for consent in document["consent_ids"]]
    return Timeline(
        subject_ref=subject_filter(session, runtime, subject) or NO_SUCH_SUBJECT,
        entries=documents,
        grounds=grounds(session, relied_on),
        next_before_seq=cursor,
    )


def subject_access(
    session: Session, runtime: Runtime, ask: OfficerAsk, subject: str
) -> tuple[Timeline, list[ConsentView]]:
    """All that happened about one participant, for a subject-access request (GDPR Art. 15):
    every entry newest first (the officers' searches about them included) and every version
    of their consents; audited."""
    found = timeline(
        session, runtime, ask, subject, before_seq=None, limit=MAX_PAGE, hide_own_queries=False
    )
    participant_id = participant_named(session, runtime, subject)
    given = (
        []
        if participant_id is None
        else list_consents(session=session, participant_id=participant_id, at=runtime.clock())
    )
    return found, given


@dataclass(frozen=True)
class Download:
    """An export as it streams to the officer: its lines, media type and file name."""

    lines: Iterator[str]
    media_type: str
    filename: str


def export(
    session: Session,
    runtime: Runtime,
    ask: OfficerAsk,
    filters: Filters,
    *,
    after_seq: int,
    as_format: str,
) -> Download:
    """The matching entries up to the head as it is now (a stable export that leaves out its
    own entry), read in batches while they stream, as CSV or NDJSON; audited."""
    query = officer_query(session, runtime, ask, filters, after_seq=after_seq)
    last = head(session)
    documents = _documents(runtime, query, through=last.seq if last is not None else 0)
    answered(session, runtime, ask, query.subject_ref)
    day = runtime.clock().date().isoformat()
    if as_format == "csv":
        return Download(csv_lines(documents), "text/csv; charset=utf-8", f"schakel-audit-{day}.csv")
    return Download(ndjson_lines(documents), "application/x-ndjson", f"schakel-audit-{day}.ndjson")


def _documents(runtime: Runtime, query: AuditQuery, *, through: int) -> Iterator[dict[str, Any]]:
    """Matching entries in batches, each read in a short transaction of its own while streaming."""
    after = query.after_seq
    while True:
        page = query.model_copy(update={"after_seq": after, "limit": EXPORT_BATCH})
        with transaction(runtime.sessions) as session:
            rows, _ = find_entries(session=session, query=page)
            documents = [entry_document(row) for row in rows if row.seq <= through]
        yield from documents
        if len(documents) < len(rows) or len(rows) < EXPORT_BATCH:
            return
        after = rows[-1].seq


# The log's transparency: checkpoints, proofs, witnesses. Checkpoints and consistency proofs
# name no one (hashes and sizes only), so they are public; an inclusion proof carries its entry.


def checkpoint_view(
    session: Session, checkpoint: AuditCheckpoint | None = None, *, seq: int | None = None
) -> CheckpointView:
    """A checkpoint (the one at ``seq``, or the given one) as the API shows it."""
    if checkpoint is None and seq is not None:
        checkpoint = session.get(AuditCheckpoint, seq)
    if checkpoint is None:
        raise NotFound("no such checkpoint" if seq is not None else "no checkpoint yet")
    view = CheckpointView(version=1, **_v1_fields(checkpoint))
    if checkpoint.note is None:
        return view
    lines = cosignatures_of(session, [checkpoint.seq]).get(checkpoint.seq, [])
    note = published_note(checkpoint, lines)
    return view.model_copy(
        update={
            "version": 2,
            "origin": note.text.split("\n", 1)[0],
            "root_hash": checkpoint.root_hash,
            "note": str(note),
            "cosigned_by": sorted({line.split(" ")[1] for line in lines}),
        }
    )


def _v1_fields(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "entry_hash": checkpoint.entry_hash,
        "recorded_at": format_timestamp(checkpoint.recorded_at),
        "signed_at": format_timestamp(checkpoint.signed_at),
        "kid": checkpoint.kid,
        "signature": checkpoint.signature,
    }


def newest_checkpoint(session: Session) -> CheckpointView:
    """The newest checkpoint of either version."""
    return checkpoint_view(session, latest_checkpoint(session))


def newest_note(session: Session) -> str:
    """The newest tree checkpoint as C2SP tlog-checkpoint text, for transparency tooling."""
    checkpoint = latest_tree_checkpoint(session)
    if checkpoint is None:
        raise NotFound("the audit log has no tree checkpoint yet")
    return published(session, checkpoint)


def log_view(runtime: Runtime) -> LogView:
    """The origin, the log's note keys (current first, then retired) and its witnesses."""
    origin = runtime.trail.origin
    keys = public_keys(runtime.audit_keys.jwks).values()
    return LogView(
        origin=origin,
        vkeys=[Verifier(origin, ED25519, key).vkey for key in keys],
        witnesses=[
            WitnessView(url=witness.url, vkey=witness.vkey)
            for witness in runtime.settings.audit_witnesses
        ],
    )


def consistency(session: Session, runtime: Runtime, old: int, new: int) -> ConsistencyBundle:
    """The proof that the tree checkpoint of ``new`` entries extends the one of ``old``."""
    try:
        return consistency_bundle(session, old, new, runtime.trail.tiles)
    except NoSuchCheckpoint as error:
        raise NotFound(str(error)) from None


def inclusion(
    session: Session, runtime: Runtime, seq: int, entry: AuditEntry | None = None
) -> InclusionBundle:
    """Entry ``seq``'s inclusion proof to the newest tree checkpoint; 409 before one covers it."""
    try:
        return inclusion_bundle(session, seq, entry=entry, tiles=runtime.trail.tiles)
    except EntryNotFound as error:
        raise NotFound(str(error)) from None
    except NotCheckpointed as error:
        raise Conflict(
            f"{error}: the gateway signs one within "
            f"{runtime.settings.audit_checkpoint_every_seconds} seconds of an entry"
        ) from None


def entry_proof(session: Session, runtime: Runtime, ask: OfficerAsk, seq: int) -> InclusionBundle:
    """An officer's inclusion proof of any entry in their scope; audited like every officer
    query, a refusal too."""
    found = _entry_in_scope(session, runtime, ask, seq)
    bundle = inclusion(session, runtime, seq, found)
    answered(session, runtime, ask, found.subject_ref)
    return bundle
