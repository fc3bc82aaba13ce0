#!/usr/bin/env bash
# The whole test suite: lint, formatting, types, Rego tests and pytest on SQLite, PostgreSQL and OPA.
# PostgreSQL and OPA are started here as throwaway servers when their programs are installed
# (scripts/provision.sh installs them); with CI=true a missing one is an error, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap stop_services EXIT

missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "error: $1 is required in CI; run scripts/provision.sh" >&2
    exit 1
  fi
  echo "warning: $1 not found; its tests will be skipped (scripts/provision.sh installs it)" >&2
}

echo "== ruff"
$BIN/ruff check .
$BIN/ruff format --check .
echo "== mypy"
$BIN/mypy
echo "== opa"
if OPA=$(find_opa); then
  # The test that stops and restarts its own OPA server mid-run starts this binary.
  export SCHAKEL_TEST_OPA_BIN="$OPA"
  unformatted=$("$OPA" fmt --list policies/)
  if [ -n "$unformatted" ]; then echo "not opa-fmt formatted: $unformatted" >&2; exit 1; fi
  "$OPA" check --strict policies/
  "$OPA" test policies/ --coverage --format=json > "$(services_dir)/coverage.json"
  python3 - "$(services_dir)/coverage.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
coverage = report.get("coverage", 0)
print(f"opa test policies/: all passed, coverage {coverage:.1f} %")
if coverage < 90:
    sys.exit(f"Rego coverage {coverage:.1f} % is below 90 %")
PY
  start_opa || missing "an OPA server"
else
  missing "opa ($OPA_VERSION)"
fi
echo "== postgresql"
if [ -z "${SCHAKEL_TEST_POSTGRES_URL:-}" ]; then
  start_postgres || missing "PostgreSQL (initdb/pg_ctl)"
fi
echo "== hydra"
if HYDRA=$(find_hydra); then
  # The sign-in tests start their own Hydra (in memory) on 127.0.0.1.
  export SCHAKEL_TEST_HYDRA_BIN="$HYDRA"
  echo "ORY Hydra at $HYDRA"
else
  missing "ORY Hydra ($HYDRA_VERSION)"
fi
echo "== axe-core"
if AXE=$(find_axe); then
  # The browser tests (tests/web/) inject it into every page state they visit.
  export SCHAKEL_TEST_AXE="$AXE"
  echo "axe-core: $AXE"
else
  missing "axe-core ($AXE_VERSION)"
fi
echo "== spectral"
if SPECTRAL=$(find_spectral); then
  export SCHAKEL_TEST_SPECTRAL_BIN="$SPECTRAL"
  echo "Spectral $("$SPECTRAL" --version) lints /openapi.json in tests/openapi/"
else
  missing "spectral ($SPECTRAL_VERSION)"
fi
echo "== pytest"
$BIN/pytest "$@"
