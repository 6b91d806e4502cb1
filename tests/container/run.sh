#!/usr/bin/env bash
# `make test-container`: the tests that need a running Docker daemon, apart from `make test` (which needs
# none). .ci/run calls it after `make test`.
#
# A test is an executable file tests/container/test_*.sh, run from the repository root; exit 0 passes.
# Issue 21 (the container image) adds the first ones. While there are none, nothing runs and Docker is not
# needed; once there are, Docker is ensured first (tests/tools/ensure.sh docker) and a missing Docker
# fails the run — it never skips a test.
set -euo pipefail
cd "$(dirname "$0")/../.."

shopt -s nullglob
tests=(tests/container/test_*.sh)
if [ ${#tests[@]} -eq 0 ]; then
    echo "make test-container: no container tests yet (issue 21 adds them in tests/container/); Docker not needed"
    exit 0
fi
tests/tools/ensure.sh docker
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
echo "container tests: ${passed} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
