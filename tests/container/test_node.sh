#!/usr/bin/env bash
# docs/ci.md's Node recipe: Testcontainers for Node (docs/examples/ci/testcontainers.test.mjs, run as it is
# with node's test runner; npm testcontainers from docs/examples/ci/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/../../docs/examples/ci"
: "${RECMOCK_IMAGE:?run through tests/container/run.sh}"
export TESTCONTAINERS_RYUK_DISABLED=true
exec node --test testcontainers.test.mjs
