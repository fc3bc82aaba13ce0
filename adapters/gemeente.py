"""Municipal cases as JSON in the style of the VNG ZGW Zaken API (zaak, zaaktype, status, resultaat).

One zaak, or a ZGW list page (``{"count": …, "results": [zaak, …]}``); zaaktype, status and
resultaat are inlined (``identificatie`` / ``omschrijving``) instead of referred to by URL. The
zaaktype decides the category: Participatiewet benefit, Wmo support, debt assistance, housing
support, re-integration. The participant is the ``natuurlijk_persoon`` rol's ``inpBsn``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from adapters.errors import PayloadError, UnknownCode
from adapters.jsonload import load_json
from adapters.nodes import JsonNode, Node, code, iso_date, not_taken_in, text
from adapters.protocol import (
    CanonicalContribution,
    DisclosedView,
    DroppedItem,
    ParsedPayload,
    RenderedPayload,
    SubjectIdentifier,
)
from adapters.vocabulary import PARTNER_TRAJECTORY_TYPES, TRAJECTORY_TYPES

ZGW_JSON = "application/json"
# zaaktype.identificatie -> (category, fixed fields)
ZAAKTYPES: dict[str, tuple[str, dict[str, str]]] = {
    "PW-LEVENSONDERHOUD": ("income.benefit", {"benefit_type": "Participatiewet"}),
    "WMO-ONDERSTEUNING": ("social.support", {"support_type": "wmo-support"}),
    "SCHULDHULPVERLENING": ("social.support", {"support_type": "debt-assistance"}),
    "WMO-BESCHERMD-WONEN": ("social.support", {"support_type": "housing-support"}),
    "PW-REINTEGRATIE": ("work.reintegration", {}),
}
STATUSTYPES = ("Ontvangen", "In behandeling", "Lopend", "Opgeschort", "Afgesloten")
RESULTAATTYPES = ("Toegekend", "Afgewezen", "Beeindigd", "Afgebroken")
# (statustype, resultaattype) -> canonical status, for case-like and trajectory categories.
_CASE = {"Ontvangen": "requested", "In behandeling": "requested", "Lopend": "active",
         "Opgeschort": "suspended"}  # fmt: skip
_TRAJECTORY = {"Ontvangen": "planned", "In behandeling": "planned", "Lopend": "active",
               "Opgeschort": "active"}  # fmt: skip
TAKEN_IN = frozenset(
    {"url", "uuid", "identificatie", "bronorganisatie", "zaaktype", "startdatum", "einddatum",
     "registratiedatum", "status", "resultaat", "rollen", "eigenschappen"}
)  # fmt: skip
PSEUDONYM_KEY = "schakelPseudoniem"


def parse_zaken(body: bytes) -> ParsedPayload:
    """Each zaak one contribution; all zaken must concern the same participant."""
    root = JsonNode(load_json(body))
    if not isinstance(root.value, dict):
        raise PayloadError("#", "expected a zaak or a list page of zaken (a JSON object)")
    zaken = root.children("results") if "results" in root.value else [root]
    if not zaken:
        raise PayloadError("#/results", "no zaken")
    contributions: list[CanonicalContribution] = []
    dropped: list[DroppedItem] = []
    for zaak in zaken:
        contribution = _zaak(zaak, dropped)
        if contributions and contribution.subject.value != contributions[0].subject.value:
            raise PayloadError(contribution.subject.location, "all zaken must concern one person")
        contributions.append(contribution)
    return ParsedPayload(tuple(contributions), tuple(dropped))


def _zaak(zaak: Node, dropped: list[DroppedItem]) -> CanonicalContribution:
    zaaktype = zaak.child("zaaktype")
    if zaaktype is None:
        raise PayloadError(f"{zaak.location}/zaaktype", "zaaktype is required")
    kind = text(zaaktype, "identificatie", required=True)
    assert kind is not None
    if kind not in ZAAKTYPES:
        raise UnknownCode(
            f"{zaaktype.location}/identificatie",
            f"unknown zaaktype {kind!r}; valid: {', '.join(sorted(ZAAKTYPES))}",
        )
    category, fixed = ZAAKTYPES[kind]
    status = _status(zaak, trajectory=category == "work.reintegration")
    fields: dict[str, Any] = dict(fixed)
    if category == "income.benefit":
        fields |= {"status": status, "since": iso_date(zaak, "startdatum"),
                   "until": iso_date(zaak, "einddatum")}  # fmt: skip
    elif category == "social.support":
        fields |= {"status": status, "contact": _contact(zaak)}
    else:
        eigenschappen = _eigenschappen(zaak)
        trajectory = eigenschappen.get("trajectsoort")
        if trajectory is None:
            raise PayloadError(
                f"{zaak.location}/eigenschappen", "eigenschap trajectsoort is required"
            )
        fields |= {
            "trajectory_type": code(trajectory, "waarde", TRAJECTORY_TYPES, required=True),
            "provider": text(eigenschappen["aanbieder"], "waarde")
            if "aanbieder" in eigenschappen
            else None,
            "status": status,
            "start_date": iso_date(zaak, "startdatum"),
            "end_date": iso_date(zaak, "einddatum"),
        }
    dropped.extend(not_taken_in(zaak, TAKEN_IN, category))
    status_node = zaak.child("status")
    observed = text(status_node, "datumStatusGezet") if status_node is not None else None
    return CanonicalContribution(
        subject=_subject(zaak),
        category=category,
        fields={name: value for name, value in fields.items() if value is not None},
        location=zaak.location,
        observed_at=_moment(observed),
    )


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _status(zaak: Node, *, trajectory: bool) -> str:
    status = zaak.child("status")
    if status is None:
        raise PayloadError(f"{zaak.location}/status", "status is required")
    statustype = status.child("statustype")
    if statustype is None:
        raise PayloadError(f"{status.location}/statustype", "statustype is required")
    current = code(statustype, "omschrijving", {s: s for s in STATUSTYPES}, required=True)
    resultaat = zaak.child("resultaat")
    outcome = None
    if resultaat is not None and resultaat.child("resultaattype") is not None:
        resultaattype = resultaat.child("resultaattype")
        assert resultaattype is not None
        outcome = code(resultaattype, "omschrijving", {r: r for r in RESULTAATTYPES})
    if current != "Afgesloten":
        return (_TRAJECTORY if trajectory else _CASE)[str(current)]
    if trajectory:
        return "stopped" if outcome in ("Afgewezen", "Afgebroken") else "completed"
    return "refused" if outcome == "Afgewezen" else "ended"


def _rollen(zaak: Node) -> list[Node]:
    return zaak.children("rollen")


def _subject(zaak: Node) -> SubjectIdentifier:
    for rol in _rollen(zaak):
        if text(rol, "betrokkeneType") != "natuurlijk_persoon":
            continue
        identification = rol.child("betrokkeneIdentificatie")
        if identification is None:
            continue
        for key in ("inpBsn", PSEUDONYM_KEY):
            node = identification.child(key)
            if node is not None and node.scalar() is not None:
                kind = "bsn" if key == "inpBsn" else "pseudonym"
                value = str(node.scalar())
                if kind == "bsn":
                    return SubjectIdentifier("bsn", value, node.location)
                return SubjectIdentifier("pseudonym", value, node.location)
    raise PayloadError(f"{zaak.location}/rollen", "no natuurlijk_persoon rol with inpBsn")


def _contact(zaak: Node) -> dict[str, str] | None:
    """The municipal case worker: the ``behandelaar`` rol's ``contactpersoonRol``."""
    for rol in _rollen(zaak):
        if text(rol, "omschrijvingGeneriek") != "behandelaar":
            continue
        person = rol.child("contactpersoonRol")
        if person is None:
            return None
        contact = {
            "name": text(person, "naam"),
            "phone": text(person, "telefoonnummer"),
            "email": text(person, "emailadres"),
        }
        return {key: value for key, value in contact.items() if value} or None
    return None


def _eigenschappen(zaak: Node) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for eigenschap in zaak.children("eigenschappen"):
        name = text(eigenschap, "naam", required=True)
        assert name is not None
        found[name] = eigenschap
    return found


class GemeenteZgwAdapter:
    """``gemeente-zgw``: zaken in the style of the ZGW Zaken API."""

    format = "gemeente-zgw"
    media_types = frozenset({ZGW_JSON})

    def parse(self, body: bytes) -> ParsedPayload:
        """Map each zaak by its zaaktype; an unknown zaaktype or status is refused."""
        return parse_zaken(body)

    def render(self, view: DisclosedView) -> RenderedPayload:
        """The disclosed view as a ZGW list page; the participant by pseudonym."""
        results = [
            _render_zaak(view, category, fields)
            for category, fields in sorted(view.categories.items())
            if _zaaktype_for(category, fields) is not None
        ]
        others = {
            category: fields
            for category, fields in sorted(view.categories.items())
            if _zaaktype_for(category, fields) is None
        }
        document = {
            "count": len(results),
            "next": None,
            "previous": None,
            "results": results,
            "schakel": {
                "purpose": view.purpose,
                "decidedAt": view.decided_at.isoformat(),
                "policyRevision": view.policy_revision,
                "withheld": dict(sorted(view.withheld.items())),
                "otherCategories": others,
            },
        }
        body = json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")
        return RenderedPayload(ZGW_JSON, body, document)


def _zaaktype_for(category: str, fields: dict[str, Any]) -> str | None:
    for name, (mapped, fixed) in ZAAKTYPES.items():
        if mapped == category and all(fields.get(k) == v for k, v in fixed.items()):
            return name
    return None


_STATUS_BACK = {
    "requested": ("In behandeling", None),
    "planned": ("In behandeling", None),
    "active": ("Lopend", None),
    "suspended": ("Opgeschort", None),
    "ended": ("Afgesloten", "Beeindigd"),
    "refused": ("Afgesloten", "Afgewezen"),
    "completed": ("Afgesloten", "Toegekend"),
    "stopped": ("Afgesloten", "Afgebroken"),
}


def _render_zaak(view: DisclosedView, category: str, fields: dict[str, Any]) -> dict[str, Any]:
    kind = _zaaktype_for(category, fields)
    statustype, resultaattype = _STATUS_BACK.get(fields.get("status", ""), ("Lopend", None))
    zaak: dict[str, Any] = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{view.subject_pseudonym}/{category}")),
        "zaaktype": {"identificatie": kind},
        "status": {"statustype": {"omschrijving": statustype}},
        "rollen": [
            {
                "betrokkeneType": "natuurlijk_persoon",
                "omschrijvingGeneriek": "belanghebbende",
                "betrokkeneIdentificatie": {PSEUDONYM_KEY: view.subject_pseudonym},
            }
        ],
    }
    if resultaattype is not None:
        zaak["resultaat"] = {"resultaattype": {"omschrijving": resultaattype}}
    start = fields.get("since") or fields.get("start_date")
    end = fields.get("until") or fields.get("end_date")
    if start:
        zaak["startdatum"] = start
    if end:
        zaak["einddatum"] = end
    contact = fields.get("contact")
    if isinstance(contact, dict) and contact:
        person = {"naam": contact.get("name"), "telefoonnummer": contact.get("phone"),
                  "emailadres": contact.get("email")}  # fmt: skip
        zaak["rollen"].append(
            {"betrokkeneType": "medewerker", "omschrijvingGeneriek": "behandelaar",
             "contactpersoonRol": {k: v for k, v in person.items() if v}}
        )  # fmt: skip
    if category == "work.reintegration":
        kind_code = fields.get("trajectory_type", "")
        eigenschappen = [{"naam": "trajectsoort",
                          "waarde": PARTNER_TRAJECTORY_TYPES.get(kind_code, kind_code)}]  # fmt: skip
        if fields.get("provider"):
            eigenschappen.append({"naam": "aanbieder", "waarde": fields["provider"]})
        zaak["eigenschappen"] = eigenschappen
    return zaak
