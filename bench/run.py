"""Run every benchmark and print one table: `make bench` (or `.venv/bin/python bench/run.py`).

Without SCHAKEL_TEST_POSTGRES_URL / SCHAKEL_TEST_OPA_URL it re-runs itself under
scripts/services.sh with throwaway PostgreSQL and OPA servers, stopped at the end.
Not part of the test suite. Options: --quick (small N), --skip-e2e, --only NAME[,NAME] to run
only those of: policy, audit, audit-load, e2e, consent-history.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
BENCHES = ("policy", "audit", "audit-load", "e2e", "consent-history")


def _selected() -> set[str]:
    """The benchmarks to run: all, those named by --only, less e2e with --skip-e2e."""
    chosen = set(BENCHES)
    if "--only" in sys.argv:
        chosen = set(sys.argv[sys.argv.index("--only") + 1].split(","))
        unknown = chosen - set(BENCHES)
        if unknown:
            raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; known: {', '.join(BENCHES)}")
    if "--skip-e2e" in sys.argv:
        chosen.discard("e2e")
    return chosen


def _with_services() -> int:
    script = (
        "set -u; source scripts/services.sh; start_postgres || echo 'no PostgreSQL';"
        " start_opa || echo 'no OPA';"
        f" BENCH_WITH_SERVICES=1 {sys.executable} bench/run.py {' '.join(sys.argv[1:])};"
        " rc=$?; stop_services; exit $rc"
    )
    return subprocess.call(["bash", "-c", script], cwd=ROOT)  # noqa: S603, S607


def main() -> int:
    if not os.environ.get("BENCH_WITH_SERVICES") and not (
        os.environ.get("SCHAKEL_TEST_POSTGRES_URL") and os.environ.get("SCHAKEL_TEST_OPA_URL")
    ):
        return _with_services()
    import audit_bench
    import audit_load_bench
    import consent_history_bench
    import e2e_bench
    import policy_bench
    from common import fresh_postgres, print_table

    from gateway.core.logs import silence_eddsa_name_warning

    silence_eddsa_name_warning()
    quick = "--quick" in sys.argv
    selected = _selected()
    opa_url = os.environ.get("SCHAKEL_TEST_OPA_URL")
    pg_url = os.environ.get("SCHAKEL_TEST_POSTGRES_URL")
    rows, figures = [], {}
    if "policy" in selected:
        part, found = policy_bench.run(opa_url, n=300 if quick else 2000)
        rows += part
        figures["policy"] = found
    if "audit" in selected:
        part, found = audit_bench.run(pg_url, appends=200 if quick else 2000,
                                      verify_total=5000 if quick else 50_000)  # fmt: skip
        rows += part
        figures["audit"] = found
    if "audit-load" in selected:
        part, found = audit_load_bench.run(pg_url, quick=quick)
        rows += part
        figures["audit_load"] = found
    if "e2e" in selected:
        e2e_pg, drop = fresh_postgres(pg_url) if pg_url else (None, lambda: None)
        try:
            part, found = e2e_bench.run(e2e_pg, seconds=3 if quick else 10)
        finally:
            drop()
        rows += part
        figures["e2e"] = found
    if "consent-history" in selected:
        history_pg, drop = fresh_postgres(pg_url) if pg_url else (None, lambda: None)
        try:
            part, found = consent_history_bench.run(history_pg, rounds=100 if quick else 300)
        finally:
            drop()
        rows += part
        figures["consent_history"] = found
    print()
    print(f"Schakel benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")  # fmt: skip
    print_table(rows)
    out = ROOT / "bench" / "last-run.json"
    out.write_text(json.dumps({"rows": [r.__dict__ for r in rows], "figures": figures},
                              indent=2, default=str))  # fmt: skip
    print(f"\nfigures written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
