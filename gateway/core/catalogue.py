"""The catalogue of domains, roles, purposes and categories, read from ``policies/`` (one source)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import InvalidInput

CATALOGUE_FILE = Path("schakel") / "catalogue" / "data.json"
PARTY_ID = re.compile(r"^[a-z](?:[a-z0-9-]{0,62}[a-z0-9])?$")


@dataclass(frozen=True)
class Obstacle:
    """A code of the obstacle vocabulary, with its label per language."""

    code: str
    labels: dict[str, str]
    description: str

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.code


@dataclass(frozen=True)
class RetentionGround:
    """A legal ground a recipient may state for keeping data it was told to delete."""

    description: str
    domains: frozenset[str]


@dataclass(frozen=True)
class Municipality:
    """A municipality (its CBS code), the region it lies in and its subregion there."""

    code: str
    name: str
    region: str
    subregion: str


@dataclass(frozen=True)
class RegionMonitoring:
    """A region's legal choice for its monitoring: the basis (``consent`` to the
    regional-monitoring purpose, or its own ``agreement`` under GDPR Art. 89 with objection),
    who receives its releases, and its privacy budget per year and default per release."""

    basis: str
    agreement: str | None
    recipients: frozenset[str]
    epsilon_per_year: float
    epsilon_per_release: float
    subregions: dict[str, str]


@dataclass(frozen=True)
class Catalogue:
    """What the policies know about; the API validates against the same document.

    ``conferences`` maps each case-conference purpose to the roles that may chair one;
    ``regions`` and ``obstacles`` are the vocabularies of a conference and its outcome.
    """

    domains: frozenset[str]
    roles: dict[str, frozenset[str]]
    purposes: dict[str, frozenset[str]]
    categories: dict[str, tuple[str, ...]]
    sources: dict[str, frozenset[str]]
    conferences: dict[str, frozenset[str]] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    obstacles: dict[str, Obstacle] = field(default_factory=dict)
    requesters_of: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    retention_grounds: dict[str, RetentionGround] = field(default_factory=dict)
    municipalities: dict[str, Municipality] = field(default_factory=dict)
    monitoring: dict[str, RegionMonitoring] = field(default_factory=dict)

    def grounds_for(self, domain: str) -> frozenset[str]:
        """The legal grounds on which a party of ``domain`` may keep data it was told to delete."""
        return frozenset(
            name for name, ground in self.retention_grounds.items() if domain in ground.domains
        )

    @classmethod
    def load(cls, policies_dir: Path) -> Catalogue:
        document: dict[str, Any] = json.loads((policies_dir / CATALOGUE_FILE).read_text("utf-8"))
        purposes: dict[str, Any] = document["purposes"]
        return cls(
            domains=frozenset(document["domains"]),
            roles={name: frozenset(role["domains"]) for name, role in document["roles"].items()},
            purposes={name: frozenset(purpose["categories"]) for name, purpose in purposes.items()},
            categories={
                name: tuple(category["fields"]) for name, category in document["categories"].items()
            },
            sources={
                name: frozenset(category.get("sources", ()))
                for name, category in document["categories"].items()
            },
            conferences={
                name: frozenset(purpose.get("chair_roles", ()))
                for name, purpose in purposes.items()
                if purpose.get("conference") is True
            },
            regions={name: region["name"] for name, region in document.get("regions", {}).items()},
            obstacles={
                code: Obstacle(code, dict(entry["label"]), entry.get("description", ""))
                for code, entry in document.get("obstacles", {}).items()
            },
            requesters_of={
                name: {domain: frozenset(roles) for domain, roles in purpose["requesters"].items()}
                for name, purpose in purposes.items()
            },
            retention_grounds={
                name: RetentionGround(ground["description"], frozenset(ground["domains"]))
                for name, ground in document.get("retention_grounds", {}).items()
            },
            municipalities={
                code: Municipality(code, entry["name"], region, entry["subregion"])
                for region, described in document.get("regions", {}).items()
                for code, entry in described.get("municipalities", {}).items()
            },
            monitoring={
                region: _monitoring(described)
                for region, described in document.get("regions", {}).items()
                if "monitoring" in described
            },
        )

    def municipalities_of(self, region: str) -> dict[str, Municipality]:
        """The region's municipalities by CBS code."""
        return {code: m for code, m in self.municipalities.items() if m.region == region}

    def requesters(self, purpose: str, domain: str) -> frozenset[str]:
        """The roles of ``domain`` that may ask for ``purpose``."""
        return self.requesters_of.get(purpose, {}).get(domain, frozenset())

    @property
    def standing_purposes(self) -> dict[str, frozenset[str]]:
        """The purposes a consent can be given for outside a conference (a conference asks its own)."""
        return {
            name: categories
            for name, categories in self.purposes.items()
            if name not in self.conferences
        }

    def check_party_profile(
        self, *, domain: str, roles: Sequence[str], purposes: Sequence[str]
    ) -> None:
        """Refuse a domain, role or purpose the policies do not know, naming the valid values."""
        if domain not in self.domains:
            raise InvalidInput(
                f"unknown domain {domain!r}; valid: {', '.join(sorted(self.domains))}",
                field="domain",
            )
        for role in roles:
            if role not in self.roles:
                raise InvalidInput(
                    f"unknown role {role!r}; valid: {', '.join(sorted(self.roles))}", field="roles"
                )
            if domain not in self.roles[role]:
                raise InvalidInput(f"role {role!r} is not held in domain {domain!r}", field="roles")
        for purpose in purposes:
            if purpose not in self.purposes:
                raise InvalidInput(
                    f"unknown purpose {purpose!r}; valid: {', '.join(sorted(self.purposes))}",
                    field="purposes",
                )


def check_party_id(party_id: str) -> None:
    if not PARTY_ID.match(party_id):
        raise InvalidInput(
            "a party id is 1-64 lowercase letters, digits and inner hyphens, starting with a "
            "letter (e.g. uwv-leiden)",
            field="id",
        )


def _monitoring(region: dict[str, Any]) -> RegionMonitoring:
    monitoring = region["monitoring"]
    return RegionMonitoring(
        basis=monitoring["basis"],
        agreement=monitoring.get("agreement"),
        recipients=frozenset(monitoring.get("recipients", ())),
        epsilon_per_year=float(monitoring["epsilon_per_year"]),
        epsilon_per_release=float(monitoring["epsilon_per_release"]),
        subregions=dict(region.get("subregions", {})),
    )
