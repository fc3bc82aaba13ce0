"""Take a parsed partner payload in: check the caller's domain, keep the minimum, seal it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from adapters.protocol import CanonicalContribution, DroppedItem, ParsedPayload, SubjectIdentifier
from bsn import is_valid_bsn
from gateway.auth.access_tokens import Caller
from gateway.contributions.schemas import AcceptedItem, DroppedItemView
from gateway.core.catalogue import Catalogue
from gateway.errors import GatewayError, InvalidInput
from gateway.identity.keys import IdentityKeys
from gateway.identity.models import Participant
from gateway.identity.vault import enrol, find_by_pseudonym
from gateway.storage.kek import KekRing
from gateway.storage.service import data_key, store_contribution


class ContributionForbidden(GatewayError):
    """A category the caller's domain is not a source of (catalogue ``sources``)."""

    status = 403
    slug = "forbidden-category"
    title = "Not a source of this category"


def check_sources(
    caller: Caller, parsed: ParsedPayload, sources: dict[str, frozenset[str]]
) -> None:
    """403 naming every contribution outside the caller's domain, or from another sender."""
    faults = [
        {"location": c.location, "detail": f"{c.category} is not contributed by {caller.domain}"}
        for c in parsed.contributions
        if caller.domain not in sources.get(c.category, frozenset())
    ]
    faults += [
        {"location": c.location, "detail": f"the payload names sender {c.source_party!r}"}
        for c in parsed.contributions
        if c.source_party is not None and c.source_party != caller.party
    ]
    if faults:
        raise ContributionForbidden(
            f"party {caller.party} ({caller.domain}) may not contribute this", errors=faults
        )


def resolve_participant(
    *,
    session: Session,
    keys: IdentityKeys,
    caller: Caller,
    subject: SubjectIdentifier,
    domains: frozenset[str],
    now: datetime,
) -> Participant:
    """Find or enrol by BSN (11-proof), or find by the caller's domain pseudonym."""
    if subject.kind == "bsn":
        if not is_valid_bsn(subject.value):
            raise _subject_fault(subject, "the BSN fails the 11-proof")
        return enrol(session=session, keys=keys, bsn=subject.value, domains=domains, now=now)
    if subject.domain not in (None, caller.domain):
        raise _subject_fault(
            subject, f"a {subject.domain} pseudonym; name the participant by a {caller.domain} one"
        )
    participant = find_by_pseudonym(session, caller.domain, subject.value)
    if participant is None:
        raise _subject_fault(subject, f"no participant with this {caller.domain} pseudonym")
    return participant


def _subject_fault(subject: SubjectIdentifier, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"location": subject.location, "detail": detail}])


@dataclass(frozen=True)
class Minimal:
    """What may be stored, and what is dropped by the catalogue's rules."""

    kept: list[CanonicalContribution]
    dropped: list[DroppedItem]


def minimise(parsed: ParsedPayload, catalogue: Catalogue) -> Minimal:
    """Drop categories no purpose lets leave the source, and fields outside the catalogue."""
    disclosable = frozenset().union(*catalogue.purposes.values())
    kept: list[CanonicalContribution] = []
    dropped = list(parsed.dropped)
    for item in parsed.contributions:
        if item.category not in catalogue.categories:
            dropped.append(DroppedItem(item.location, "unknown-category",
                                       f"{item.category} is not in the catalogue", item.category))  # fmt: skip
            continue
        if item.category not in disclosable:
            dropped.append(
                DroppedItem(
                    item.location, "never-disclosable",
                    f"no purpose lets {item.category} leave its source; not stored", item.category,
                )
            )  # fmt: skip
            continue
        allowed = catalogue.categories[item.category]
        dropped.extend(
            DroppedItem(
                item.location,
                "outside-catalogue",
                f"{name} is not a catalogue field of {item.category}; not stored",
                item.category,
                field=name,
            )
            for name in sorted(set(item.fields) - set(allowed))
        )
        fields = {name: value for name, value in item.fields.items() if name in allowed}
        if not fields:
            dropped.append(DroppedItem(item.location, "no-fields",
                                       "nothing of the catalogue's fields is left", item.category))  # fmt: skip
            continue
        kept.append(
            CanonicalContribution(
                subject=item.subject, category=item.category, fields=fields,
                location=item.location, source_party=item.source_party,
                observed_at=item.observed_at,
            )
        )  # fmt: skip
    return Minimal(kept, dropped)


def store_all(
    *,
    session: Session,
    keks: KekRing,
    caller: Caller,
    participant: Participant,
    kept: list[CanonicalContribution],
    now: datetime,
) -> list[AcceptedItem]:
    """Seal each kept contribution under the participant's data key (read once)."""
    accepted = []
    key = data_key(session, keks, participant.id, now) if kept else None
    for item in kept:
        row = store_contribution(
            session=session,
            keks=keks,
            participant_id=participant.id,
            category=item.category,
            source_party=caller.party,
            source_domain=caller.domain,
            observed_at=item.observed_at or now,
            fields=item.fields,
            now=now,
            key=key,
        )
        accepted.append(
            AcceptedItem(
                contribution_id=row.id,
                category=item.category,
                fields=sorted(item.fields),
                location=item.location,
            )
        )
    return accepted


def dropped_views(dropped: list[DroppedItem]) -> list[DroppedItemView]:
    return [DroppedItemView(**asdict(item)) for item in dropped]
