# Throwaway PostgreSQL and OPA servers on 127.0.0.1 for the test suite; sourced by scripts/test.sh.
# Each exports the URL the tests read (SCHAKEL_TEST_POSTGRES_URL, SCHAKEL_TEST_OPA_URL) and
# registers its own clean-up. Nothing depends on a server left running.

OPA_VERSION="v1.22.2"
HYDRA_VERSION="v2.3.0"
AXE_VERSION="4.14.1"
SPECTRAL_VERSION="6.16.3"
# One scratch folder for all services, made now (not in a subshell, so every caller sees it).
SERVICES_DIR=$(mktemp -d /tmp/schakel-services.XXXXXX)
chmod 755 "$SERVICES_DIR"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

find_opa() {
  for candidate in "${SCHAKEL_TEST_OPA_BIN:-}" "$PWD/.tools/bin/opa" "$(command -v opa || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

find_hydra() {
  for candidate in "${SCHAKEL_TEST_HYDRA_BIN:-}" "$PWD/.tools/bin/hydra-$HYDRA_VERSION"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

find_axe() {
  local candidate="$PWD/.tools/axe-core-$AXE_VERSION/node_modules/axe-core/axe.min.js"
  for candidate in "${SCHAKEL_TEST_AXE:-}" "$candidate"; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

find_spectral() {
  local candidate="$PWD/.tools/spectral-$SPECTRAL_VERSION/node_modules/.bin/spectral"
  for candidate in "${SCHAKEL_TEST_SPECTRAL_BIN:-}" "$candidate"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

find_pg_bin() {
  if [ -n "${SCHAKEL_TEST_PG_BIN:-}" ]; then echo "$SCHAKEL_TEST_PG_BIN"; return 0; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return 0
  fi
  return 1
}

services_dir() {
  echo "$SERVICES_DIR"
}

# Run a PostgreSQL tool as the postgres user when we are root (the server refuses to run as root).
as_pg_user() {
  if [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/bash -c "$*"
  else
    bash -c "$*"
  fi
}

# start_postgres [durable]: the test suite's server runs with fsync=off (nothing it writes must
# survive a crash, and its tests run quicker); `durable` starts a second one as production runs,
# fsync and synchronous_commit on, for the benchmarks (SCHAKEL_TEST_DURABLE_POSTGRES_URL).
start_postgres() {
  local mode="${1:-}" bin port data settings variable
  bin=$(find_pg_bin) || return 1
  port=$(free_port)
  if [ "$mode" = "durable" ]; then
    data="$(services_dir)/pg-durable"
    settings="-c fsync=on -c synchronous_commit=on"
    variable=SCHAKEL_TEST_DURABLE_POSTGRES_URL
  else
    data="$(services_dir)/pg"
    settings="-c fsync=off"
    variable=SCHAKEL_TEST_POSTGRES_URL
  fi
  # A benchmark on a slower disk (bench/disk.py) preloads its delay into every process; su
  # drops LD_PRELOAD, so it is handed to the server by name.
  local preload=""
  if [ -n "${SLOW_SYNC_US:-}" ] && [ -n "${LD_PRELOAD:-}" ]; then
    preload="LD_PRELOAD='$LD_PRELOAD' SLOW_SYNC_US='$SLOW_SYNC_US' "
  fi
  mkdir -p "$data"
  if [ "$(id -u)" = "0" ]; then chown postgres "$data"; fi
  as_pg_user "'$bin/initdb' -D '$data' -U postgres --auth=trust --encoding=UTF8 --no-sync" >"$data.initdb.log" 2>&1 \
    || { cat "$data.initdb.log"; return 1; }
  as_pg_user "$preload'$bin/pg_ctl' -D '$data' -l '$data/server.log' -w -t 60 \
    -o \"-p $port -c listen_addresses=127.0.0.1 -k '$data' $settings -c max_connections=200\" start" >/dev/null \
    || { cat "$data/server.log"; return 1; }
  PG_STOP="${PG_STOP:-true}; '$bin/pg_ctl' -D '$data' -m immediate stop"
  export "$variable=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($settings)"
}

start_opa() {
  local opa port
  opa=$(find_opa) || return 1
  port=$(free_port)
  "$opa" run --server --addr "127.0.0.1:$port" --log-level error >"$(services_dir)/opa.log" 2>&1 &
  OPA_PID=$!
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null; then
      export SCHAKEL_TEST_OPA_URL="http://127.0.0.1:$port"
      echo "OPA $("$opa" version | awk '/^Version/ {print $2}') on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  cat "$(services_dir)/opa.log"
  return 1
}

stop_services() {
  if [ -n "${OPA_PID:-}" ]; then kill "$OPA_PID" 2>/dev/null || true; fi
  if [ -n "${PG_STOP:-}" ]; then as_pg_user "$PG_STOP" >/dev/null 2>&1 || true; fi
  if [ -n "$SERVICES_DIR" ]; then rm -rf "$SERVICES_DIR"; fi
}
