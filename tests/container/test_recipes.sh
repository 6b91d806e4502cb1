#!/usr/bin/env bash
# docs/ci.md's Python recipes, with pytest from .venv-container/: `docker run` with a fixture and a port and
# a receiver on the host that gets the callbacks and downloads the files they name
# (tests/container/python/), Testcontainers for Python and the pytest fixture that runs the binary without
# Docker (docs/examples/ci/, run as they are).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${RECMOCK_IMAGE:?run through tests/container/run.sh}" "${RECMOCK_BIN:?run through tests/container/run.sh}"
export TESTCONTAINERS_RYUK_DISABLED=true
exec .venv-container/bin/python -m pytest -q -p no:cacheprovider tests/container/python docs/examples/ci
