"""The catalogue's cut of a parsed payload: what is kept, and each field it drops, by name."""

from __future__ import annotations

from pathlib import Path

from adapters.protocol import CanonicalContribution, ParsedPayload, SubjectIdentifier
from gateway.contributions.service import minimise
from gateway.core.catalogue import Catalogue

CATALOGUE = Catalogue.load(Path(__file__).resolve().parents[2] / "policies")
SUBJECT = SubjectIdentifier("bsn", "999993021", "/message/participant/bsn")


def test_each_field_outside_the_catalogue_is_dropped_by_name() -> None:
    benefit = CanonicalContribution(
        subject=SUBJECT,
        category="income.benefit",
        fields={"benefit_type": "WW", "status": "active", "iban": "NL91", "employer": "X"},
        location="/message/benefit",
    )
    minimal = minimise(ParsedPayload((benefit,)), CATALOGUE)
    assert [item.fields for item in minimal.kept] == [{"benefit_type": "WW", "status": "active"}]
    assert [(d.field, d.category, d.location, d.reason) for d in minimal.dropped] == [
        ("employer", "income.benefit", "/message/benefit", "outside-catalogue"),
        ("iban", "income.benefit", "/message/benefit", "outside-catalogue"),
    ]
    assert all("not stored" in d.detail for d in minimal.dropped)
