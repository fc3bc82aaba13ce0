"""The audit log's contracts hold in one place: the actions, the entry's members, a pure verifier."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from audit.actions import Action
from audit.fhir import FHIR_ACTIONS
from audit.fields import DOCUMENT_FIELDS, DRAFT_FIELDS
from audit.models import AuditEntry, entries_table
from audit.schemas import ACTION_PATTERN, AuditDraft, EntryView

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "audit-format.md"
ACTION_ROW = re.compile(r"^\| `([a-z._]+)` \| [^|]+ \| ([CRUDE]) \|$", re.MULTILINE)


def _documented_actions() -> dict[str, str]:
    text = DOCUMENT.read_text("utf-8")
    section = text[text.index("### 1.1 Actions") : text.index("## 2.")]
    return dict(ACTION_ROW.findall(section))


def test_the_format_document_the_fhir_mapping_and_the_enum_name_the_same_actions() -> None:
    documented = _documented_actions()
    assert set(documented) == {action.value for action in Action}
    assert documented == {action.value: code for action, code in FHIR_ACTIONS.items()}


def test_every_action_fits_the_pattern_the_column_and_queries_accept() -> None:
    assert all(re.fullmatch(ACTION_PATTERN, action) for action in Action)


def _actions_written_by_the_gateway() -> set[str]:
    written: set[str] = set()
    for path in (ROOT / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Action"
            ):
                written.add(node.attr)
    return written


def test_the_enum_holds_exactly_the_actions_the_gateway_writes() -> None:
    assert _actions_written_by_the_gateway() == set(Action.__members__)


def test_the_draft_holds_the_members_a_caller_supplies() -> None:
    assert tuple(AuditDraft.model_fields) == DRAFT_FIELDS


def test_the_table_and_the_officer_view_hold_every_member() -> None:
    stored = (*DOCUMENT_FIELDS, "canonical", "version")
    assert tuple(column.name for column in entries_table.columns) == stored
    assert set(AuditEntry.__annotations__) == set(stored)
    assert tuple(EntryView.model_fields) == DOCUMENT_FIELDS


def test_the_offline_verifiers_import_no_database_library() -> None:
    """`schakel audit verify --export` and the proof checks run where no database is installed."""
    probe = (
        "import sys\n"
        "import audit.verify, audit.verify_export, audit.proofs, audit.witness\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'psycopg'})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
