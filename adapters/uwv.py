"""UWV messages (XML, parsed with ``defusedxml``; or the same message as JSON) to categories.

The message format is documented in ``docs/adapters.md``: ``benefit`` (WW, WIA, Wajong) is
``income.benefit``, ``workCapacity`` is ``work.capacity``, ``reintegration`` is
``work.reintegration``. XML refuses any DTD, entity declaration or external reference.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from adapters.errors import MalformedPayload, PayloadError
from adapters.jsonload import load_json
from adapters.nodes import (
    JsonNode,
    Node,
    XmlNode,
    code,
    instant,
    integer,
    iso_date,
    local_name,
    not_taken_in,
    text,
)
from adapters.protocol import (
    CanonicalContribution,
    DisclosedView,
    ParsedPayload,
    RenderedPayload,
    SubjectIdentifier,
)
from adapters.vocabulary import PARTNER_TRAJECTORY_TYPES, TRAJECTORY_TYPES

NAMESPACE = "https://schakel.nl/ns/uwv/v1"
UWV_XML = "application/xml"
UWV_JSON = "application/json"

BENEFIT_TYPES = {"WW": "WW", "WIA": "WIA", "Wajong": "Wajong"}
BENEFIT_STATUSES = {
    "aangevraagd": "requested",
    "lopend": "active",
    "opgeschort": "suspended",
    "beeindigd": "ended",
    "afgewezen": "refused",
}
TRAJECTORY_STATUSES = {
    "gepland": "planned",
    "lopend": "active",
    "afgerond": "completed",
    "afgebroken": "stopped",
}
HEADER = ("messageVersion", "sender", "sentAt", "participant", "disclosure")
SECTIONS = ("benefit", "workCapacity", "reintegration")
# What each section's mapper reads; anything else in a section is reported as dropped.
SECTION_ELEMENTS = {
    "benefit": ("type", "status", "startDate", "endDate"),
    "workCapacity": ("assessedAt", "hoursPerWeek", "restrictionsSummary"),
    "reintegration": ("type", "provider", "status", "startDate", "endDate"),
}


def parse_message(root: Node) -> ParsedPayload:
    """The message's sections as contributions; each section at most once per message."""
    sender = text(root, "sender")
    sent_at = instant(root, "sentAt", required=True)
    subject = _subject(root)
    contributions: list[CanonicalContribution] = []
    dropped = not_taken_in(root, (*HEADER, *SECTIONS))
    for name, category, mapper in (
        ("benefit", "income.benefit", _benefit),
        ("workCapacity", "work.capacity", _work_capacity),
        ("reintegration", "work.reintegration", _reintegration),
    ):
        section = root.child(name)
        if section is not None:
            dropped += not_taken_in(section, SECTION_ELEMENTS[name], category)
            contributions.append(
                CanonicalContribution(
                    subject=subject,
                    category=category,
                    fields={k: v for k, v in mapper(section).items() if v is not None},
                    location=section.location,
                    source_party=sender,
                    observed_at=sent_at,
                )
            )
    if not contributions:
        raise PayloadError(
            root.location, "the message holds no benefit, workCapacity or reintegration"
        )
    return ParsedPayload(tuple(contributions), tuple(dropped))


def _subject(root: Node) -> SubjectIdentifier:
    participant = root.child("participant")
    if participant is None:
        raise PayloadError(f"{root.location}/participant", "participant is required")
    for kind in ("bsn", "pseudonym"):
        node = participant.child(kind)
        if node is not None and node.scalar() is not None:
            value = str(node.scalar())
            return SubjectIdentifier("bsn" if kind == "bsn" else "pseudonym", value, node.location)
    raise PayloadError(participant.location, "name the participant by bsn (or pseudonym)")


def _benefit(node: Node) -> dict[str, Any]:
    return {
        "benefit_type": code(node, "type", BENEFIT_TYPES, required=True),
        "status": code(node, "status", BENEFIT_STATUSES, required=True),
        "since": iso_date(node, "startDate"),
        "until": iso_date(node, "endDate"),
    }


def _work_capacity(node: Node) -> dict[str, Any]:
    return {
        "assessed_at": iso_date(node, "assessedAt", required=True),
        "hours_per_week": integer(node, "hoursPerWeek", low=0, high=40),
        "restrictions_summary": text(node, "restrictionsSummary"),
    }


def _reintegration(node: Node) -> dict[str, Any]:
    return {
        "trajectory_type": code(node, "type", TRAJECTORY_TYPES, required=True),
        "provider": text(node, "provider"),
        "status": code(node, "status", TRAJECTORY_STATUSES, required=True),
        "start_date": iso_date(node, "startDate"),
        "end_date": iso_date(node, "endDate"),
    }


def _partner_sections(categories: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Canonical fields back to the message's sections and partner codes."""
    benefit_status = {v: k for k, v in BENEFIT_STATUSES.items()}
    trajectory_status = {v: k for k, v in TRAJECTORY_STATUSES.items()}
    sections: dict[str, dict[str, Any]] = {}
    if "income.benefit" in categories:
        f = categories["income.benefit"]
        sections["benefit"] = {
            "type": f.get("benefit_type"),
            "status": benefit_status.get(f.get("status", ""), f.get("status")),
            "startDate": f.get("since"),
            "endDate": f.get("until"),
        }
    if "work.capacity" in categories:
        f = categories["work.capacity"]
        sections["workCapacity"] = {
            "assessedAt": f.get("assessed_at"),
            "hoursPerWeek": f.get("hours_per_week"),
            "restrictionsSummary": f.get("restrictions_summary"),
        }
    if "work.reintegration" in categories:
        f = categories["work.reintegration"]
        kind = f.get("trajectory_type", "")
        sections["reintegration"] = {
            "type": PARTNER_TRAJECTORY_TYPES.get(kind, kind),
            "provider": f.get("provider"),
            "status": trajectory_status.get(f.get("status", ""), f.get("status")),
            "startDate": f.get("start_date"),
            "endDate": f.get("end_date"),
        }
    return {name: {k: v for k, v in s.items() if v is not None} for name, s in sections.items()}


_SECTION_CATEGORIES = {"income.benefit", "work.capacity", "work.reintegration"}


def _disclosure_header(view: DisclosedView) -> dict[str, Any]:
    return {
        "purpose": view.purpose,
        "decidedAt": view.decided_at.isoformat(),
        "policyRevision": view.policy_revision,
        "withheld": dict(sorted(view.withheld.items())),
        "otherCategories": {
            c: f for c, f in sorted(view.categories.items()) if c not in _SECTION_CATEGORIES
        },
    }


class UwvXmlAdapter:
    """``uwv-xml``: the UWV message as XML in namespace ``https://schakel.nl/ns/uwv/v1``."""

    format = "uwv-xml"
    media_types = frozenset({UWV_XML, "text/xml"})

    def parse(self, body: bytes) -> ParsedPayload:
        """Parse with ``defusedxml`` (no DTD, no entities, no external references)."""
        try:
            element = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException as error:
            raise MalformedPayload(
                "/", f"refused: {type(error).__name__} (no DTDs or entities)"
            ) from None
        except ParseError as error:
            line, column = error.position
            raise MalformedPayload(
                "/", f"not well-formed XML at line {line}, column {column}"
            ) from None
        if element.tag != f"{{{NAMESPACE}}}message":
            raise PayloadError(
                f"/{local_name(element.tag)}", f"the root element must be message in {NAMESPACE}"
            )
        return parse_message(XmlNode(element, "/message"))

    def render(self, view: DisclosedView) -> RenderedPayload:
        """The disclosed view as a message; the participant by pseudonym."""
        root = Element("message", {"xmlns": NAMESPACE})
        SubElement(root, "messageVersion").text = "1"
        SubElement(root, "sentAt").text = view.decided_at.isoformat()
        SubElement(SubElement(root, "participant"), "pseudonym").text = view.subject_pseudonym
        for name, values in _partner_sections(view.categories).items():
            section = SubElement(root, name)
            for key, value in values.items():
                SubElement(section, key).text = str(value)
        header = _disclosure_header(view)
        disclosure = SubElement(root, "disclosure")
        for key in ("purpose", "decidedAt", "policyRevision"):
            SubElement(disclosure, key).text = header[key]
        for category, reason in header["withheld"].items():
            SubElement(disclosure, "withheld", {"category": category, "reason": reason})
        for category, fields in header["otherCategories"].items():
            element = SubElement(disclosure, "category", {"name": category})
            for key, value in sorted(fields.items()):
                if value is not None:
                    rendered = value if isinstance(value, str) else json.dumps(value)
                    SubElement(element, "field", {"name": key}).text = rendered
        body = tostring(root, encoding="utf-8", xml_declaration=True)
        return RenderedPayload(UWV_XML, body, root)


class UwvJsonAdapter:
    """``uwv-json``: the same message as JSON, with the same member names."""

    format = "uwv-json"
    media_types = frozenset({UWV_JSON})

    def parse(self, body: bytes) -> ParsedPayload:
        """Parse strict JSON (bounded depth) and map it as the XML message."""
        document = load_json(body)
        if not isinstance(document, dict):
            raise PayloadError("#", "expected a JSON object")
        return parse_message(JsonNode(document))

    def render(self, view: DisclosedView) -> RenderedPayload:
        """The disclosed view as a JSON message; the participant by pseudonym."""
        document: dict[str, Any] = {
            "messageVersion": "1",
            "sentAt": view.decided_at.isoformat(),
            "participant": {"pseudonym": view.subject_pseudonym},
            **_partner_sections(view.categories),
            "disclosure": _disclosure_header(view),
        }
        body = json.dumps(document, ensure_ascii=False, default=_json_default).encode("utf-8")
        return RenderedPayload(UWV_JSON, body, document)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
