"""The quick reading of an export gives the report the careful, line-by-line reading gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.verify_export import _verify_export_carefully, verify_export

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "audit"
JWKS = json.loads((VECTORS / "jwks.json").read_text("utf-8"))
VALID = (VECTORS / "valid.ndjson").read_text("utf-8").splitlines()


def _escaped_key(line: str) -> str:
    return line.replace('{"entry"', '{"\\u0065ntry"', 1)


HOSTILE = {
    "broken line after a changed entry": [
        VALID[0],
        VALID[1].replace('"ok"', '"deny"', 1),
        *VALID[2:5],
        '{"entry": ',
        *VALID[5:],
    ],
    "an entry repeated under an escaped key": [*VALID[:3], _escaped_key(VALID[2]), *VALID[3:]],
    "carriage returns": ["\r\n".join(VALID), "\r".join(VALID[:3])],
    "no header": VALID[1:],
    "a header further down": [*VALID[:3], VALID[0], *VALID[3:]],
}


@pytest.mark.parametrize("name", sorted(p.name for p in VECTORS.glob("*.ndjson")))
def test_vectors_get_the_careful_report(name: str) -> None:
    assert verify_export(VECTORS / name, JWKS) == _verify_export_carefully(VECTORS / name, JWKS)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_get_the_careful_report(tmp_path: Path, case: str) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(HOSTILE[case]) + "\n", encoding="utf-8", newline="")
    assert verify_export(path, JWKS) == _verify_export_carefully(path, JWKS)
