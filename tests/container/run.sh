#!/usr/bin/env bash
# `make test-container`: the tests that need a running Docker daemon, apart from `make test` (which needs
# none). .ci/run calls it after `make test`.
#
# Docker is ensured first (tests/tools/ensure.sh docker: a missing or stopped Docker fails the run — no
# test is ever skipped), then the image is built (`make image`: recmock:<version>), then each test runs:
# an executable file tests/container/test_*.sh, run from the repository root; exit 0 passes. They find the
# image in RECMOCK_IMAGE and the binary it holds in RECMOCK_BIN. The image is removed at the end (with the
# dangling ones earlier builds left) unless RECMOCK_KEEP_IMAGE=1.
set -euo pipefail
cd "$(dirname "$0")/../.."

shopt -s nullglob
tests=(tests/container/test_*.sh)
[ ${#tests[@]} -gt 0 ] || { echo "make test-container: no tests in tests/container/" >&2; exit 1; }
tests/tools/ensure.sh docker image containerpy node

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
export RECMOCK_IMAGE=recmock:$version
export RECMOCK_BIN=$PWD/target/dist/recmock
export TESTCONTAINERS_RYUK_DISABLED=true
# Testcontainers addresses the bridge gateway when it believes it runs inside a container (as in some CI
# sandboxes): the published ports are on the host's loopback too, and tests send traffic only there.
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
cleanup() {
    if [ "${RECMOCK_KEEP_IMAGE:-0}" != 1 ]; then
        docker image rm "$RECMOCK_IMAGE" >/dev/null 2>&1 || true
    fi
    docker image prune --force --filter label=dev.recmock.image=1 >/dev/null 2>&1 || true
}
trap cleanup EXIT
echo "== make image ($RECMOCK_IMAGE)"
make --no-print-directory image

passed=0
failed=()
for t in "${tests[@]}"; do
    echo "== $t"
    if "$t"; then
        passed=$((passed + 1))
    else
        failed+=("$t")
    fi
done
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "containers: ${passed} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
