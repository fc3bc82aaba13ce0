#!/usr/bin/env bash
# Install what the test suite needs beyond Python: PostgreSQL (Debian package); OPA, the ORY Hydra
# OpenID provider and the reference Merkle tree (built from the Go module proxy into .tools/bin,
# which is git-ignored and reused once built); axe-core and Spectral from npm into .tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
OPA_VERSION="v1.22.2"
HYDRA_VERSION="v2.3.0"
AXE_VERSION="4.14.1"
SPECTRAL_VERSION="6.16.3"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql >/dev/null
fi

# Browser tests (tests/web/) drive Debian's Chromium; `playwright install` cannot download here.
[ -x /usr/bin/chromium ] || {
  echo "installing Chromium"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium >/dev/null
}

if ! [ -x .tools/bin/opa ] || ! .tools/bin/opa version | grep -q "Version: ${OPA_VERSION#v}"; then
  echo "building OPA $OPA_VERSION (about two minutes)"
  mkdir -p .tools/bin
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$OPA_VERSION"
fi
.tools/bin/opa version | head -n 1

# The reference Merkle tree the audit tests compare against (Go module proxy, cached in .tools).
echo "merkle reference: $(scripts/merkle-reference.sh)"

# The sign-in tests (tests/web/test_sign_in.py) run a real OpenID provider. Hydra's go.mod
# replaces its API client with a folder the module archive leaves out; the same client is on the
# module proxy. SQLite (in memory) needs cgo and the sqlite build tag.
HYDRA=.tools/bin/hydra-$HYDRA_VERSION
if ! [ -x "$HYDRA" ]; then
  echo "building ORY Hydra $HYDRA_VERSION (a few minutes on a fresh machine)"
  source_dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/ory/hydra/v2@$HYDRA_VERSION" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  build_dir=.tools/build/hydra-$HYDRA_VERSION
  rm -rf "$build_dir" && mkdir -p .tools/build && cp -r "$source_dir" "$build_dir"
  chmod -R u+w "$build_dir"
  sed -i 's#^replace github.com/ory/hydra-client-go/v2 => ./internal/httpclient$#replace github.com/ory/hydra-client-go/v2 => github.com/ory/hydra-client-go/v2 v2.2.1#' \
    "$build_dir/go.mod"
  (cd "$build_dir" && CGO_ENABLED=1 GOFLAGS=-mod=mod \
    go build -tags sqlite,sqlite_omit_load_extension -o "$OLDPWD/$HYDRA.partial" .)
  mv "$HYDRA.partial" "$HYDRA"
  rm -rf "$build_dir"
fi
echo "ORY Hydra $HYDRA_VERSION: $HYDRA"

# The browser tests (tests/web/) inject axe-core into every page they visit; the npm registry's
# package into .tools/, reused once installed.
AXE=.tools/axe-core-$AXE_VERSION/node_modules/axe-core/axe.min.js
if ! [ -f "$AXE" ]; then
  echo "installing axe-core $AXE_VERSION"
  mkdir -p ".tools/axe-core-$AXE_VERSION"
  npm install --prefix ".tools/axe-core-$AXE_VERSION" --no-audit --no-fund --silent \
    "axe-core@$AXE_VERSION"
fi
echo "axe-core $AXE_VERSION: $AXE"

# The NL GOV API Design Rules lint (tests/openapi/test_api_design_rules.py) runs Spectral, from
# the npm registry into .tools/, reused once installed.
SPECTRAL=.tools/spectral-$SPECTRAL_VERSION/node_modules/.bin/spectral
if ! [ -x "$SPECTRAL" ]; then
  echo "installing Spectral $SPECTRAL_VERSION"
  mkdir -p ".tools/spectral-$SPECTRAL_VERSION"
  npm install --prefix ".tools/spectral-$SPECTRAL_VERSION" --no-audit --no-fund --silent \
    "@stoplight/spectral-cli@$SPECTRAL_VERSION"
fi
echo "Spectral $("$SPECTRAL" --version): $SPECTRAL"
