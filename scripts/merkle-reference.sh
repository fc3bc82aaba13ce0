#!/usr/bin/env bash
# Build tests/merkle_reference (github.com/transparency-dev/merkle, from the Go module proxy)
# into .tools/bin, once per version of its sources, and print the program's path. The tests
# run it to hold Schakel's Merkle tree against the reference; scripts/provision.sh builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE=tests/merkle_reference
STAMP=$(cat "$SOURCE/go.mod" "$SOURCE/go.sum" "$SOURCE/main.go" | sha256sum | cut -c1-16)
PROGRAM="$PWD/.tools/bin/merkle-reference-$STAMP"
if [ ! -x "$PROGRAM" ]; then
  mkdir -p .tools/bin
  (cd "$SOURCE" && GOFLAGS=-mod=mod go build -o "$PROGRAM.partial" .)
  mv "$PROGRAM.partial" "$PROGRAM"
fi
echo "$PROGRAM"
