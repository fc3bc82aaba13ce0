"""Run every benchmark and print one table: `make bench` (or `.venv/bin/python bench/run.py`).

Without SCHAKEL_TEST_POSTGRES_URL / SCHAKEL_TEST_OPA_URL it re-runs itself under
scripts/services.sh with throwaway servers, stopped at the end: OPA, the tests' PostgreSQL
(fsync off) and one as production runs it (fsync and synchronous_commit on,
SCHAKEL_TEST_DURABLE_POSTGRES_URL). Not part of the test suite. Options: --quick (small N),
--skip-e2e, --only NAME[,NAME] to run only those of: policy, audit, audit-load, e2e,
consent-history, fairness, frozen-opa, scale-out, transparency; --fsync-delay-us N to run on a
slower disk (`disk.py`: every sync of every process of the run waits N microseconds first).
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
BENCHES = ("policy", "audit", "audit-load", "e2e", "consent-history", "fairness", "frozen-opa",
           "scale-out", "transparency")  # fmt: skip
HTTP_BENCHES = {"e2e", "fairness", "frozen-opa", "scale-out", "transparency"}


def _selected() -> set[str]:
    """The benchmarks to run: all, those named by --only, less e2e with --skip-e2e."""
    chosen = set(BENCHES)
    if "--only" in sys.argv:
        chosen = set(sys.argv[sys.argv.index("--only") + 1].split(","))
        unknown = chosen - set(BENCHES)
        if unknown:
            raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; known: {', '.join(BENCHES)}")
    if "--skip-e2e" in sys.argv:
        chosen -= HTTP_BENCHES
    return chosen


def _fsync_delay_us() -> int:
    """The microseconds --fsync-delay-us adds to every sync; 0 when not given."""
    if "--fsync-delay-us" not in sys.argv:
        return 0
    given = sys.argv[sys.argv.index("--fsync-delay-us") + 1 :][:1]
    if not given or not given[0].isdigit():
        raise SystemExit("--fsync-delay-us needs a whole number of microseconds")
    return int(given[0])


def _on_slower_disk(delay_us: int) -> None:
    """Run again with every sync delayed, this process included (it fills the audit logs)."""
    import disk

    arguments = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    os.execve(sys.executable, arguments, disk.slowed_environment(delay_us))  # noqa: S606


def _with_services() -> int:
    script = (
        "set -u; source scripts/services.sh; start_postgres || echo 'no PostgreSQL';"
        " start_postgres durable || echo 'no durable PostgreSQL'; start_opa || echo 'no OPA';"
        f" BENCH_WITH_SERVICES=1 {sys.executable} bench/run.py {' '.join(sys.argv[1:])};"
        " rc=$?; stop_services; exit $rc"
    )
    return subprocess.call(["bash", "-c", script], cwd=ROOT)  # noqa: S603, S607


@contextmanager
def _databases(**admin_urls: str | None) -> Iterator[dict[str, str]]:
    """A fresh database on each server named (those given), dropped at the end."""
    from common import fresh_postgres

    with ExitStack() as stack:
        fresh = {}
        for name, admin_url in admin_urls.items():
            if admin_url:
                url, drop = fresh_postgres(admin_url)
                stack.callback(drop)
                fresh[name] = url
        yield fresh


def main() -> int:
    import disk

    delay_us = _fsync_delay_us()
    if delay_us and os.environ.get(disk.DELAY_VARIABLE) != str(delay_us):
        _on_slower_disk(delay_us)
    if not os.environ.get("BENCH_WITH_SERVICES") and not (
        os.environ.get("SCHAKEL_TEST_POSTGRES_URL") and os.environ.get("SCHAKEL_TEST_OPA_URL")
    ):
        return _with_services()
    import audit_bench
    import audit_load_bench
    import consent_history_bench
    import e2e_bench
    import fairness_bench
    import frozen_opa_bench
    import policy_bench
    import scale_out_bench
    import transparency_bench
    from common import Row, print_table
    from serving import load_average

    from gateway.core.logs import silence_eddsa_name_warning

    silence_eddsa_name_warning()
    quick = "--quick" in sys.argv
    seconds = 3 if quick else 10
    selected = _selected()
    opa_url = os.environ.get("SCHAKEL_TEST_OPA_URL")
    fast = os.environ.get("SCHAKEL_TEST_POSTGRES_URL")  # fsync off, the tests' server
    durable = os.environ.get("SCHAKEL_TEST_DURABLE_POSTGRES_URL")  # fsync on, as production
    production = durable or fast
    started = datetime.now(UTC)
    loads = [load_average()]
    sync_us = disk.sync_latency_us()
    print(f"disk: an 8 KiB write and fdatasync take {sync_us:,.0f} us (median)"
          + (f", {delay_us:,} us of it added by --fsync-delay-us" if delay_us else ""),
          flush=True)  # fmt: skip
    if delay_us and not os.environ.get("BENCH_WITH_SERVICES"):
        print("  (servers named by SCHAKEL_TEST_*_URL run on their own disks' time)", flush=True)
    rows, figures = [], {}

    def record(name: str, part: list[Row], found: Any) -> None:
        rows.extend(part)
        figures[name] = found
        loads.append(load_average())
        print(f"load average after {name}: {loads[-1]}", flush=True)

    if "policy" in selected:
        record("policy", *policy_bench.run(opa_url, n=300 if quick else 10_000))
    servers = {name: url for name, url in (("PostgreSQL fsync on", durable),
                                           ("PostgreSQL fsync off", fast)) if url}  # fmt: skip
    if "audit" in selected:
        record("audit", *audit_bench.run(servers, appends=200 if quick else 2000,
                                         verify_total=5000 if quick else 50_000))  # fmt: skip
    if "audit-load" in selected:
        name = "PostgreSQL fsync on" if durable else "PostgreSQL fsync off"
        record("audit_load", *audit_load_bench.run(production, quick=quick, name=name))
    if "e2e" in selected:
        with _databases(**servers) as fresh:
            record("e2e", *e2e_bench.run(fresh, seconds=seconds))
    if "consent-history" in selected:
        with _databases(history=production) as fresh:
            record("consent_history", *consent_history_bench.run(
                fresh.get("history"), rounds=100 if quick else 300))  # fmt: skip
    if "fairness" in selected:
        with _databases(fairness=durable) as fresh:
            record("fairness", *fairness_bench.run(fresh.get("fairness"), seconds=3 if quick else 5,
                                                   rounds=1 if quick else 3))  # fmt: skip
    if "frozen-opa" in selected:
        with _databases(frozen=durable) as fresh:
            record("frozen_opa", *frozen_opa_bench.run(fresh.get("frozen")))
    if "scale-out" in selected:
        with _databases(gateways=durable, ceiling=durable) as fresh:
            record("scale_out", *scale_out_bench.run(fresh.get("gateways"), fresh.get("ceiling"),
                                                     seconds=seconds,
                                                     ceiling_seconds=2 if quick else 5))  # fmt: skip
    if "transparency" in selected:
        record("transparency", *transparency_bench.run(production, quick=quick))
    print()
    print(f"Schakel benchmarks, {started:%Y-%m-%d %H:%M}-{datetime.now(UTC):%H:%M} UTC; "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; load average (1, 5, 15 min) at the start "
          f"{loads[0]}, at the end {loads[-1]}; disk sync {sync_us:,.0f} us"
          + (f" ({delay_us:,} us added)" if delay_us else ""))  # fmt: skip
    print_table(rows)
    out = ROOT / "bench" / "last-run.json"
    out.write_text(json.dumps({"started": f"{started:%Y-%m-%d %H:%M} UTC", "load_averages": loads,
                               "disk_sync_us": sync_us, "fsync_delay_us": delay_us,
                               "rows": [r.__dict__ for r in rows], "figures": figures},
                              indent=2, default=str))  # fmt: skip
    print(f"\nfigures written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
