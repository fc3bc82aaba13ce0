"""The audit log's contracts hold in one place: the entry's members, a pure verifier."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from audit.fields import DOCUMENT_FIELDS, DRAFT_FIELDS
from audit.models import AuditEntry, entries_table
from audit.schemas import AuditDraft, EntryView

ROOT = Path(__file__).resolve().parents[2]


def test_the_draft_holds_the_members_a_caller_supplies() -> None:
    assert tuple(AuditDraft.model_fields) == DRAFT_FIELDS


def test_the_table_and_the_officer_view_hold_every_member() -> None:
    assert tuple(column.name for column in entries_table.columns) == (*DOCUMENT_FIELDS, "canonical")
    assert set(AuditEntry.__annotations__) == {*DOCUMENT_FIELDS, "canonical"}
    assert tuple(EntryView.model_fields) == DOCUMENT_FIELDS


def test_the_offline_verifiers_import_no_database_library() -> None:
    """`schakel audit verify --export` and the proof checks run where no database is installed."""
    probe = (
        "import sys\n"
        "import audit.verify, audit.verify_export\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'psycopg'})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
