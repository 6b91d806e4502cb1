#!/usr/bin/env bash
# `make test-install`: `cargo install` works from a clean clone — only what is committed, Cargo.lock as it
# is (--locked) — into a temporary root, and the installed `recmock` runs. .ci/run calls it.
#
# The clone is of HEAD (uncommitted changes are not in it: commit first). Its build goes to
# target/install-check/ (kept, so a second run rebuilds only recmock); the root is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/recmock-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

git clone --quiet --no-hardlinks "file://$ROOT" "$work/clone"
echo "install: cargo install --path <clean clone of $(git -C "$work/clone" rev-parse --short HEAD)> --locked --root <tmp>"
start=$(date +%s)
cargo install --quiet --path "$work/clone" --locked --root "$work/root" --target-dir "$ROOT/target/install-check"
echo "install: built and installed in $(( $(date +%s) - start )) s"

bin=$work/root/bin/recmock
[ -x "$bin" ] || { echo "install: no $bin after cargo install" >&2; exit 1; }
passed=0
failed=0
check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok     $what"
        passed=$((passed + 1))
    else
        echo "FAILED $what"
        failed=$((failed + 1))
    fi
}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
check "recmock --version is $version" bash -c "'$bin' --version | grep -qx 'recmock $version'"
check "recmock check validates the demo fixture" "$bin" check fixtures/demo.json
# It serves, and `recmock wait` sees it.
port_file=$work/banner
"$bin" --port 0 --frozen-clock --log-level error >"$port_file" &
pid=$!
url=
for _ in $(seq 100); do
    url=$(head -1 "$port_file" | grep -o 'http://[^ ]*' || true)
    [ -n "$url" ] && break
    sleep 0.1
done
check "the installed recmock serves, and recmock wait sees it" "$bin" wait --url "${url:-http://127.0.0.1:1}" --timeout 20
kill "$pid"
wait "$pid" 2>/dev/null || true
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
