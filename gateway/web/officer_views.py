"""Audit entries and findings as an officer reads them: local times, organisation names, actions,
outcomes and reasons in words, and for each disclosure the consent it relied on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from audit.verify import VerifyReport
from gateway.audit_log.access_log import WITHHELD, withheld_categories
from gateway.audit_log.grounds import ConsentGround
from gateway.audit_log.unusual import Finding, Rule, Thresholds
from gateway.web.i18n import LOCAL_ZONE, local_time, plain, translator, utc_time
from gateway.web.officer_words import ACTIONS, OUTCOMES, REASONS

SHORT = 10


@dataclass(frozen=True)
class EntryRow:
    """One entry in words; ``subject`` is the audit pseudonym, ``subject_short`` its start."""

    seq: int
    when: str
    utc: str
    organisation: str
    # The professional acting at the organisation (its own user id, NEN 7513), when named.
    user: str | None
    action: str
    outcome: str
    refused: bool
    subject: str | None
    subject_short: str | None
    purpose: str | None
    disclosed: str
    withheld: str
    about: str
    reason: str | None
    grounds: list[str]
    policy_revision: str | None


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def reason_in_words(language: str, reason: str | None) -> str | None:
    """The policy's codes in a reason as words; text without a known code is shown as is."""
    if not reason:
        return None
    words = REASONS[language]
    pairs = WITHHELD.findall(reason)
    if pairs:
        return "; ".join(
            f"{plain(language, category)}: {words.get(code, code)}" for category, code in pairs
        )
    return words.get(reason, reason)


def ground_sentence(language: str, ground: ConsentGround, names: Mapping[str, str]) -> str:
    t = translator(language)
    return t(
        "consent_ground",
        given_by=t(f"officer_given_by_{ground.given_by}"),
        day=local_time(language, ground.given_at),
        grantee=names.get(ground.grantee) or plain(language, ground.grantee),
        purpose=plain(language, ground.purpose),
        categories=", ".join(plain(language, c) for c in ground.categories),
    )


def entry_row(
    language: str,
    document: Mapping[str, Any],
    names: Mapping[str, str],
    grounds: Mapping[str, ConsentGround],
    known: frozenset[str],
) -> EntryRow:
    """An entry document (docs/audit-format.md) as a row of words."""
    t = translator(language)
    at = _moment(document["recorded_at"])
    action = document["action"]
    categories = list(document["categories"])
    withheld = withheld_categories(document["reason"], known) if action == "disclose" else []
    about = [] if action in ("disclose", "deny") else categories
    if action == "deny":
        withheld, categories = categories, []
    elif action != "disclose":
        categories = []
    relied = [
        ground_sentence(language, grounds[consent], names)
        if consent in grounds
        else t("consent_unknown", id=consent)
        for consent in document["consent_ids"]
        if action == "disclose"
    ]
    subject = document["subject_ref"]
    return EntryRow(
        seq=document["seq"],
        when=local_time(language, at),
        utc=utc_time(at),
        organisation=_actor(t, document["actor_party"], names),
        user=document.get("actor_user"),
        action=ACTIONS[language].get(action, action),
        outcome=OUTCOMES[language].get(document["outcome"], document["outcome"]),
        refused=document["outcome"] == "deny",
        subject=subject,
        subject_short=subject[:SHORT] if subject else None,
        purpose=plain(language, document["purpose"]) if document["purpose"] else None,
        disclosed=", ".join(plain(language, c) for c in categories),
        withheld=", ".join(plain(language, c) for c in withheld),
        about=", ".join(plain(language, c) for c in about),
        reason=reason_in_words(language, document["reason"]),
        grounds=relied,
        policy_revision=(document["policy_revision"] or "")[:12] or None,
    )


def _actor(t: Any, party: str, names: Mapping[str, str]) -> str:
    """The acting organisation's name; the participant and the operator in words."""
    if party in ("participant", "operator"):
        return str(t(f"actor_{party}"))
    return names.get(party, party)


def chain_sentences(
    language: str, report: VerifyReport, checkpoint: Mapping[str, Any] | None
) -> list[str]:
    """The chain check in words: intact or not, the latest checkpoint's date and what it means."""
    t = translator(language)
    if not report.ok:
        where = str(report.first_bad_seq) if report.first_bad_seq is not None else "?"
        return [t("chain_bad", seq=where, problem=report.problem or "")]
    said = [t("chain_ok", entries=str(report.entries))]
    if checkpoint is None:
        return [*said, t("chain_no_checkpoint")]
    signed = local_time(language, _moment(str(checkpoint["signed_at"])))
    said.append(t("chain_signed", when=signed, seq=str(checkpoint["seq"])))
    unsigned = report.last_seq - report.verified_through
    if unsigned > 0:
        said.append(t("chain_unsigned", count=str(unsigned)))
    return said


@dataclass(frozen=True)
class FindingLine:
    """A finding in one sentence, with the search that shows the entries behind it."""

    sentence: str
    link: str


def finding_line(
    language: str, finding: Finding, limits: Thresholds, names: Mapping[str, str]
) -> FindingLine:
    t = translator(language)
    party = names.get(finding.party or "", finding.party or "")
    first = finding.first_at.astimezone(LOCAL_ZONE).date()
    last = finding.last_at.astimezone(LOCAL_ZONE).date()
    days = {"from": first.isoformat(), "until": last.isoformat()}
    if finding.rule is Rule.MOST_CONSULTED:
        subject = (finding.subject_ref or "")[:SHORT]
        sentence = t("unusual_most_consulted", subject=subject, count=str(finding.count),
                     days=str(limits.window_days), threshold=str(limits.most_consulted_min))  # fmt: skip
        query = {"subject": finding.subject_ref or "", **days}
    else:
        sentence = _party_sentence(language, finding, limits, party)
        query = {"party": finding.party or "", **days}
    link = "/officer?" + "&".join(f"{name}={value}" for name, value in query.items())
    return FindingLine(sentence=sentence, link=link)


def _party_sentence(language: str, finding: Finding, limits: Thresholds, party: str) -> str:
    t = translator(language)
    count = str(finding.count)
    if finding.rule is Rule.DENIAL_SHARE:
        return t("unusual_denials", party=party, count=count,
                 share=str(round((finding.share or 0) * 100)),
                 earlier=str(round((finding.baseline or 0) * 100)),
                 days=str(limits.window_days - 1), min=str(limits.min_denials),
                 margin=str(round(limits.denial_margin * 100)))  # fmt: skip
    if finding.rule is Rule.AFTER_HOURS:
        return t("unusual_after_hours", party=party, count=count,
                 start=str(limits.office_start), end=str(limits.office_end),
                 when=local_time(language, finding.last_at))  # fmt: skip
    if finding.rule is Rule.BULK_READING:
        return t("unusual_bulk", party=party, count=count, minutes=str(limits.bulk_minutes),
                 threshold=str(limits.bulk_participants),
                 when=local_time(language, finding.first_at))  # fmt: skip
    return t("unusual_rise", party=party, count=count,
             baseline=f"{finding.baseline or 0:.1f}".replace(".", "," if language == "nl" else "."),
             days=str(limits.window_days - 1), factor=f"{limits.rise_factor:g}",
             threshold=str(limits.rise_min))  # fmt: skip


def day_after(text: str) -> str:
    """The day after an ISO date, for an inclusive 'until' turned exclusive."""
    return (datetime.fromisoformat(text) + timedelta(days=1)).date().isoformat()
