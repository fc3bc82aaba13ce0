"""The one append path of the audit log: who acted, on whom (audit pseudonym), in the caller's
transaction, with the checkpoint rule applied to every entry — API, pages and CLI alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.append import AppendedEntry, Link, append_entry
from audit.checkpoint import checkpoint_if_due
from audit.keys import AuditSigningKey
from audit.schemas import AuditDraft, Outcome
from audit.tree import Frontier, KeptTiles
from gateway.core.clock import Clock
from gateway.identity.keys import IdentityKeys
from gateway.identity.vault import AUDIT_DOMAIN, ParticipantRef, pseudonym

PARTICIPANT_ACTOR = "participant"
OPERATOR_ACTOR = "operator"


@dataclass(frozen=True)
class AuditTrail:
    """What every append needs: the clock, the identity keys (for the subject's audit pseudonym),
    the checkpoint key, the log's origin and when a checkpoint is due (every N entries or T
    seconds)."""

    clock: Clock
    identity_keys: IdentityKeys
    signing_key: AuditSigningKey
    origin: str
    checkpoint_every_entries: int
    checkpoint_every_seconds: int
    # The tree's edge at the last checkpoint: the next one reads only the entries since.
    frontier: Frontier = field(default_factory=Frontier)
    # Complete tiles of the tree read for proofs: a proof then reads one tile of entries.
    tiles: KeptTiles = field(default_factory=KeptTiles)
    on_append: Callable[[str], None] = field(default=lambda action: None, compare=False)

    def subject_ref(self, participant: ParticipantRef | None) -> str | None:
        """Entries name the participant by the audit domain's pseudonym, never by BSN."""
        if participant is None:
            return None
        return pseudonym(self.identity_keys, AUDIT_DOMAIN, participant.id)

    def append(self, session: Session, draft: AuditDraft) -> AppendedEntry | None:
        """Append in the caller's transaction (no entry, no effect), then sign a checkpoint if
        due; while entries are held, None: the entry is sealed, and a checkpoint made, when
        they are written (``audit.append.entries_held``)."""
        entry = append_entry(session=session, draft=draft, clock=self.clock)
        self.on_append(draft.action)
        if entry is not None:
            self.checkpoint_after(session, entry)
        return entry

    def checkpoint_after(self, session: Session, newest: AppendedEntry | Link) -> None:
        """Sign a checkpoint of the log if one is due now that ``newest`` is its head."""
        checkpoint_if_due(
            session=session,
            signing_key=self.signing_key,
            clock=self.clock,
            every_entries=self.checkpoint_every_entries,
            every_seconds=self.checkpoint_every_seconds,
            origin=self.origin,
            newest=newest,
            frontier=self.frontier,
        )

    def record(
        self,
        session: Session,
        *,
        trace_id: str | None,
        actor_party: str,
        actor_domain: str,
        action: Action,
        outcome: Outcome,
        actor_user: str | None = None,
        participant: ParticipantRef | None = None,
        purpose: str | None = None,
        categories: Iterable[str] = (),
        consent_ids: Iterable[str] = (),
        reason: str | None = None,
        decision_id: str | None = None,
        policy_revision: str | None = None,
        payload_digest: str | None = None,
    ) -> AppendedEntry | None:
        """Append one entry about ``participant`` (if any), named by its audit pseudonym."""
        return self.append(
            session,
            AuditDraft(
                trace_id=trace_id,
                actor_party=actor_party,
                actor_domain=actor_domain,
                actor_user=actor_user,
                action=action,
                subject_ref=self.subject_ref(participant),
                purpose=purpose,
                categories=tuple(categories),
                consent_ids=tuple(consent_ids),
                decision_id=decision_id,
                policy_revision=policy_revision,
                outcome=outcome,
                reason=reason,
                payload_digest=payload_digest,
            ),
        )
