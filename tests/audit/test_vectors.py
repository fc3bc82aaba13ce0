"""The published vectors under tests/vectors/audit/ give the verdicts cases.json states."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audit.proofs import ConsistencyBundle, InclusionBundle, check_consistency, check_inclusion
from audit.verify_export import verify_export
from tests.audit import format_verifier
from tests.audit.rfc9162_verifier import consistency_holds, inclusion_holds

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "audit"
CASES: list[dict[str, Any]] = json.loads((VECTORS / "cases.json").read_text("utf-8"))
JWKS = json.loads((VECTORS / "jwks.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_vector_verdict(case: dict[str, Any]) -> None:
    report = verify_export(VECTORS / case["file"], JWKS)
    assert report.ok is case["ok"], report.summary()
    assert report.first_bad_seq == case["first_bad_seq"], report.summary()


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_a_verifier_written_from_the_document_gives_the_same_verdict(case: dict[str, Any]) -> None:
    verdict = format_verifier.verify_file(VECTORS / case["file"], JWKS)
    assert (verdict.ok, verdict.first_bad_seq) == (case["ok"], case["first_bad_seq"])


def test_a_file_that_is_not_an_export_fails_cleanly(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ndjson"
    bogus.write_text('{"entry": {"seq": 1}}\n')
    report = verify_export(bogus, JWKS)
    assert not report.ok
    assert "header" in (report.problem or "")


PROOFS: dict[str, Any] = json.loads((VECTORS / "v2" / "proofs.json").read_text("utf-8"))


@pytest.mark.parametrize(
    "case", PROOFS["inclusion"], ids=[case["tampering"] for case in PROOFS["inclusion"]]
)
def test_inclusion_vector_verdict(case: dict[str, Any]) -> None:
    bundle = InclusionBundle.model_validate(case["bundle"])
    report = check_inclusion(bundle, JWKS, origin=PROOFS["origin"])
    assert report.ok is case["ok"], report.summary()
    assert inclusion_holds(case["bundle"], JWKS, PROOFS["origin"]) is case["ok"]


@pytest.mark.parametrize(
    "case", PROOFS["consistency"], ids=[case["tampering"] for case in PROOFS["consistency"]]
)
def test_consistency_vector_verdict(case: dict[str, Any]) -> None:
    bundle = ConsistencyBundle.model_validate(case["bundle"])
    report = check_consistency(bundle, JWKS, origin=PROOFS["origin"])
    assert report.ok is case["ok"], report.summary()
    assert consistency_holds(case["bundle"], JWKS, PROOFS["origin"]) is case["ok"]
