"""Trajectory messages (JSON) for regional monitoring: a trajectory's start, its milestones and
its outcome, from any source the catalogue names for the ``trajectory.*`` categories.

The message format is documented in ``docs/adapters.md``. Facts are tied together by the
sender's own ``reference`` of the trajectory; sending a fact again (a correction) adds a newer
contribution, and the newest counts. Codes are those of ``adapters.vocabulary``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from adapters.errors import PayloadError
from adapters.jsonload import load_json
from adapters.nodes import JsonNode, Node, code, instant, integer, iso_date, not_taken_in, text
from adapters.protocol import (
    CanonicalContribution,
    DisclosedView,
    DroppedItem,
    ParsedPayload,
    RenderedPayload,
    SubjectIdentifier,
)
from adapters.vocabulary import (
    MUNICIPALITY_CODE,
    TRAJECTORY_METHODS,
    TRAJECTORY_MILESTONES,
    TRAJECTORY_OUTCOMES,
)

TRAJECTORY_JSON = "application/json"
START, MILESTONE, OUTCOME = "trajectory.start", "trajectory.milestone", "trajectory.outcome"
HEADER = ("messageVersion", "sender", "sentAt", "participant", "trajectory", "disclosure")
TRAJECTORY = ("reference", "method", "provider", "municipality", "startDate", "milestones",
              "outcome")  # fmt: skip
MILESTONE_MEMBERS = ("code", "date")
OUTCOME_MEMBERS = ("code", "date", "hoursPerWeek")
MAX_MILESTONES = 20
_REFERENCE = re.compile(r"^[\x21-\x7e]{1,64}$")


def _codes(values: tuple[str, ...]) -> dict[str, str]:
    return {value: value for value in values}


def parse_trajectory(body: bytes) -> ParsedPayload:
    """One trajectory: a start, milestones and an outcome, each present or not (at least one)."""
    root = JsonNode(load_json(body))
    if not isinstance(root.value, dict):
        raise PayloadError("#", "expected a trajectory message (a JSON object)")
    sender = text(root, "sender")
    sent_at = instant(root, "sentAt", required=True)
    subject = _subject(root)
    trajectory = root.child("trajectory")
    if trajectory is None or not isinstance(trajectory.value, dict):
        raise PayloadError("#/trajectory", "trajectory is required (an object)")
    reference = _reference(trajectory)
    dropped: list[DroppedItem] = not_taken_in(root, HEADER)
    dropped += not_taken_in(trajectory, TRAJECTORY, START)
    found: list[tuple[str, Node, dict[str, Any]]] = []
    if trajectory.child("startDate") is not None or trajectory.child("method") is not None:
        found.append((START, trajectory, _start(trajectory, reference)))
    milestones = trajectory.children("milestones")
    if len(milestones) > MAX_MILESTONES:
        raise PayloadError(f"{trajectory.location}/milestones", f"at most {MAX_MILESTONES}")
    for milestone in milestones:
        dropped += not_taken_in(milestone, MILESTONE_MEMBERS, MILESTONE)
        found.append((MILESTONE, milestone, _milestone(milestone, reference)))
    outcome = trajectory.child("outcome")
    if outcome is not None:
        dropped += not_taken_in(outcome, OUTCOME_MEMBERS, OUTCOME)
        found.append((OUTCOME, outcome, _outcome(outcome, reference)))
    if not found:
        raise PayloadError(
            trajectory.location, "the trajectory holds no start, milestone or outcome"
        )
    contributions = tuple(
        CanonicalContribution(
            subject=subject,
            category=category,
            fields={name: value for name, value in fields.items() if value is not None},
            location=node.location,
            source_party=sender,
            observed_at=sent_at,
        )
        for category, node, fields in found
    )
    return ParsedPayload(contributions, tuple(dropped))


def _subject(root: Node) -> SubjectIdentifier:
    participant = root.child("participant")
    if participant is None:
        raise PayloadError("#/participant", "participant is required")
    if not isinstance(getattr(participant, "value", None), dict):
        raise PayloadError(participant.location, "expected an object with bsn or pseudonym")
    for kind in ("bsn", "pseudonym"):
        node = participant.child(kind)
        if node is not None and node.scalar() is not None:
            value = str(node.scalar())
            return SubjectIdentifier("bsn" if kind == "bsn" else "pseudonym", value, node.location)
    raise PayloadError(participant.location, "name the participant by bsn (or pseudonym)")


def _reference(trajectory: Node) -> str:
    reference = text(trajectory, "reference", required=True)
    assert reference is not None
    if not _REFERENCE.match(reference):
        raise PayloadError(
            f"{trajectory.location}/reference", "1-64 visible ASCII characters, no spaces"
        )
    return reference


def _start(node: Node, reference: str) -> dict[str, Any]:
    municipality = text(node, "municipality", required=True)
    assert municipality is not None
    if not re.match(MUNICIPALITY_CODE, municipality):
        raise PayloadError(
            f"{node.location}/municipality", "a CBS municipality code such as GM0546"
        )
    return {
        "reference": reference,
        "method": code(node, "method", _codes(TRAJECTORY_METHODS), required=True),
        "provider": text(node, "provider"),
        "municipality": municipality,
        "started_on": iso_date(node, "startDate", required=True),
    }


def _milestone(node: Node, reference: str) -> dict[str, Any]:
    if not isinstance(getattr(node, "value", None), dict):
        raise PayloadError(node.location, "expected an object with code and date")
    return {
        "reference": reference,
        "milestone": code(node, "code", _codes(TRAJECTORY_MILESTONES), required=True),
        "reached_on": iso_date(node, "date", required=True),
    }


def _outcome(node: Node, reference: str) -> dict[str, Any]:
    if not isinstance(getattr(node, "value", None), dict):
        raise PayloadError(node.location, "expected an object with code and date")
    outcome = code(node, "code", _codes(TRAJECTORY_OUTCOMES), required=True)
    hours = integer(node, "hoursPerWeek", low=1, high=60)
    if hours is not None and outcome != "paid-work":
        raise PayloadError(f"{node.location}/hoursPerWeek", "hours belong to paid work only")
    return {
        "reference": reference,
        "outcome": outcome,
        "ended_on": iso_date(node, "date", required=True),
        "hours_per_week": hours,
    }


class TrajectoryJsonAdapter:
    """``trajectory-json``: a trajectory's facts for regional monitoring."""

    format = "trajectory-json"
    media_types = frozenset({TRAJECTORY_JSON})

    def parse(self, body: bytes) -> ParsedPayload:
        """Map the start, each milestone and the outcome to its category."""
        return parse_trajectory(body)

    def render(self, view: DisclosedView) -> RenderedPayload:
        """The view as one message of this format; the participant by pseudonym.

        The categories are only ever counted in a release, so no disclosure renders one; this
        keeps the format symmetric with the others (what is parsed renders back the same).
        """
        facts = view.categories
        reference = next(
            (str(fields["reference"]) for fields in facts.values() if "reference" in fields), "-"
        )
        trajectory: dict[str, Any] = {"reference": reference}
        start = facts.get(START)
        if start:
            trajectory |= {"method": start.get("method"), "municipality": start.get("municipality"),
                           "startDate": start.get("started_on")}  # fmt: skip
            if start.get("provider"):
                trajectory["provider"] = start["provider"]
        milestone = facts.get(MILESTONE)
        if milestone:
            trajectory["milestones"] = [
                {"code": milestone.get("milestone"), "date": milestone.get("reached_on")}
            ]
        outcome = facts.get(OUTCOME)
        if outcome:
            trajectory["outcome"] = {
                "code": outcome.get("outcome"),
                "date": outcome.get("ended_on"),
            }
            if outcome.get("hours_per_week") is not None:
                trajectory["outcome"]["hoursPerWeek"] = outcome["hours_per_week"]
        document = {
            "messageVersion": "1",
            "sentAt": view.decided_at.isoformat(),
            "participant": {"pseudonym": view.subject_pseudonym},
            "trajectory": trajectory,
            "disclosure": {
                "purpose": view.purpose,
                "withheld": dict(sorted(view.withheld.items())),
            },
        }
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return RenderedPayload(TRAJECTORY_JSON, body, document)
