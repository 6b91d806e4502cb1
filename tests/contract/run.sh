#!/usr/bin/env bash
# Contract check: openapi/recmock.yaml against the running server, with schemathesis.
#
#   tests/contract/run.sh            (or: make contract)
#
# 1. Ensures schemathesis (pinned: the `st run` flags differ between 3.x and 4.x) and openapi-spec-validator
#    in .venv-contract/ (tests/tools/ensure.sh python: installed when missing; if they cannot be, the check
#    fails, it is never skipped), and validates the spec as OpenAPI 3.1.
# 2. Builds target/debug/recmock and starts it on a free port: `--frozen-clock --seed 1`, the embedded demo
#    world. Every callback delivery goes through an HTTP proxy on a closed loopback port (http_proxy and
#    friends in the server's environment): generated fixtures and state dumps name arbitrary callback URLs,
#    and no delivery may leave this machine. tests/contract/prepare_world.py then readies the world: an
#    access token for 001 and a recorded file for GET/HEAD /files/{key}/{name}; a valid 000 usersig (made
#    with `recmock sig usersig` at the server's virtual time) and a requested recording; 004 classes,
#    documents and a recorded class; callbacks of both vendors (000's failed, 004's held). It renders
#    tests/contract/schemathesis.toml with those values into target/contract/.
# 3. Runs `st run openapi/recmock.yaml --url http://127.0.0.1:<port>` with the checks
#      not_a_server_error            - never a 5xx, never a dropped connection
#      status_code_conformance       - only documented status codes
#      content_type_conformance      - only documented content types
#      response_schema_conformance   - bodies match the response schemas
#      response_headers_conformance  - documented headers match their schemas
#    and a bounded number of examples per operation, in the phases examples, coverage, fuzzing and (where
#    the spec has links: 001 /v1/record/init and /finish → the task's other calls, 004 class/create →
#    class/info, modify, delete and document/add → document/info, POST → DELETE fault) stateful.
#    With the defaults the whole check takes about 1.5 minutes after the build on 2 cores, ~16,000 requests,
#    and is deterministic (fixed seed, frozen clock, seeded ids).
#    A last run, `methods`, checks with `unsupported_method` that every method the spec does not list for a
#    path answers 405 with an `Allow` header (RFC 9110; docs/decisions.md: "wrong methods answer JSON 405").
#    It is a run of its own because a failing check ends an operation's coverage phase, which would hide
#    the other checks' findings.
#    tests/contract/schemathesis.toml mixes values the demo world knows (001 app_id, groups, users, streams,
#    the recorded file; 000 app, admin and usersig, rooms; 004 app and a sign matching the body's
#    expire_time, users, classes, documents; callback ids, tenants) into the generated data, so that requests
#    get past authentication and reach the vendors' logic. The spec's own examples (a long-lived 000 usersig,
#    004 bodies with expire_time 4102444800 and its sign) reach the success paths in the examples phase.
# 4. Stops the server; exits non-zero if any run found a failure, or if the server panicked.
#
# Authorization: schemathesis gets `Authorization: demo_dev_0001.demo-token-0001`, the `<dev_id>.<token>` form
# the seed documents, rather than the access token fetched in step 2. A bare access token would not survive
# the run: schemathesis itself calls GET /access/token with the demo credentials (the spec's examples), which
# supersedes the previous token (606000001 afterwards), and advancing the clock expires it.
#
# Runs. Operations that reshape the whole world are not fuzzed together with the rest, because their
# generated inputs legitimately change what every later request sees (and some currently crash the server):
#   reset    POST /__admin/reset          empties the world: the prepared task and file disappear
#   state    PUT  /__admin/state          a generated dump replaces the world (e.g. removes the demo account)
#   fixtures POST /__admin/fixtures       a generated fixture may move the clock anywhere in the future
#   faults   POST /__admin/faults         a generated rule makes vendor endpoints answer 500s, drop or stall
#   clock    POST /__admin/clock          a generated scale or `now` changes time for everything after it
#   advance  POST /__admin/clock/advance  a generated huge advance moves time for everything after it
# The `main` run covers every other operation on one server. Each world-reshaping operation then gets its own
# run (with the read-only calls that show its effect) against a fresh, identically prepared server. The
# `methods` run covers the paths of the `main` run's operations (so every path but /__admin/reset,
# /__admin/fixtures and /__admin/clock/advance).
#
# Environment:
#   CONTRACT_MAX_EXAMPLES       examples per operation and phase in the main run (default 50)
#   CONTRACT_ISOLATED_EXAMPLES  the same in the other runs (default 150)
#   CONTRACT_SEED               hypothesis seed (default 1)
#   CONTRACT_WORKERS            schemathesis workers (default 1: with more, hypothesis on Python 3.11
#                               sometimes fails with "AST constructor recursion depth mismatch")
#   CONTRACT_CHECKS             comma-separated checks of all runs but `methods` (default: the five above)
#   CONTRACT_ONLY               only these runs (space-separated, e.g. "main faults")
#   CONTRACT_SHRINK             1: shrink failing cases to minimal ones (off by default: against a server that
#                               panics, shrinking - above all of stateful scenarios - takes many minutes)
#   CONTRACT_ST_ARGS            extra arguments for `st run`
#   CONTRACT_REPORT_DIR         reports and server logs (default target/contract)
#   CONTRACT_SPEC               the spec to check (default openapi/recmock.yaml)
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VENV="$ROOT/.venv-contract"
SPEC=${CONTRACT_SPEC:-openapi/recmock.yaml}
MAX_EXAMPLES=${CONTRACT_MAX_EXAMPLES:-50}
ISOLATED_EXAMPLES=${CONTRACT_ISOLATED_EXAMPLES:-150}
SEED=${CONTRACT_SEED:-1}
WORKERS=${CONTRACT_WORKERS:-1}
CHECKS=${CONTRACT_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance}
REPORT_DIR=${CONTRACT_REPORT_DIR:-$ROOT/target/contract}
AUTH="demo_dev_0001.demo-token-0001"

# run name -> its operations (operationId regex)
declare -A OPS=(
    [reset]='^adminReset$'
    [state]='^admin(GetState|PutState)$'
    [fixtures]='^admin(LoadFixture|Tenants)$'
    [faults]='^admin(AddFault|ListFaults|ClearFaults|DeleteFault)$'
    [clock]='^admin(SetClock|GetClock)$'
    [advance]='^admin(AdvanceClock|GetClock)$'
)
WORLD_RESHAPING='^admin(Reset|PutState|LoadFixture|AddFault|SetClock|AdvanceClock)$'
# The dashboard (/__admin/ui/**) is excluded from every run by name: its pages are HTML for a person, not a
# contract, and its event stream (dashboardEvents) never ends. tests/it/ui.rs tests it in a real browser.
DASHBOARD='^dashboard'
RUNS=${CONTRACT_ONLY:-main reset state fixtures faults clock advance methods}

log() { printf '\n==> %s\n' "$*"; }

# --- 1. tools ---------------------------------------------------------------------------------------------
tests/tools/ensure.sh rust python
log "schemathesis $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))')"
log "validating $SPEC"
"$VENV/bin/openapi-spec-validator" "$SPEC"

# --- 2. server --------------------------------------------------------------------------------------------
log "cargo build"
cargo build --locked --quiet
BIN="$ROOT/target/debug/recmock"
mkdir -p "$REPORT_DIR"
CONFIG="$REPORT_DIR/schemathesis.toml"

SERVER_PID=""
PORT=""
SERVER_LOG=""
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
healthy() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "http://127.0.0.1:$PORT/__admin/health" >/dev/null 2>&1
}
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    [ -z "$SERVER_PID" ] || wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap stop_server EXIT INT TERM
start_server() { # run name
    PORT=$(free_port)
    SERVER_LOG="$REPORT_DIR/server-$1.log"
    # Panic messages name the place; full backtraces of hundreds of panics would only slow the run.
    # Callback deliveries go to a proxy on a free port nobody listens on, whatever their URL.
    local closed
    closed=$(free_port)
    RUST_BACKTRACE=0 NO_PROXY= no_proxy= \
        http_proxy="http://127.0.0.1:$closed" HTTP_PROXY="http://127.0.0.1:$closed" \
        https_proxy="http://127.0.0.1:$closed" HTTPS_PROXY="http://127.0.0.1:$closed" \
        all_proxy="http://127.0.0.1:$closed" ALL_PROXY="http://127.0.0.1:$closed" \
        "$BIN" --port "$PORT" --frozen-clock --seed 1 >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        healthy && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if ! healthy; then
        echo "recmock did not start; its log:" >&2
        cat "$SERVER_LOG" >&2
        exit 1
    fi
    # Auth paths work, files and callbacks exist; the configuration is rendered with what was made.
    rm -f "$CONFIG"
    if ! python3 tests/contract/prepare_world.py "http://127.0.0.1:$PORT" "$BIN" \
        tests/contract/schemathesis.toml "$CONFIG" 2>"$REPORT_DIR/prepare-$1.log"; then
        cat "$REPORT_DIR/prepare-$1.log" >&2
        echo "preparing the demo world failed" >&2
        exit 1
    fi
}

# --- 3. schemathesis --------------------------------------------------------------------------------------
FAILED=()
run_st() { # run name, st arguments...
    local name=$1
    shift
    log "schemathesis: $name (server on port $PORT, log ${SERVER_LOG#"$ROOT"/})"
    local rc=0
    local shrink=--no-shrink
    [ "${CONTRACT_SHRINK:-0}" != 1 ] || shrink=
    # shellcheck disable=SC2086
    "$VENV/bin/st" --config-file "$CONFIG" run "$SPEC" \
        --url "http://127.0.0.1:$PORT" \
        -H "Authorization: $AUTH" \
        --seed "$SEED" \
        --workers "$WORKERS" \
        --request-timeout 10 \
        --generation-database none \
        --suppress-health-check all \
        --no-color \
        --report junit --report-junit-path "$REPORT_DIR/junit-$name.xml" \
        $shrink "$@" ${CONTRACT_ST_ARGS:-} || rc=$?
    if grep -a -q "panicked at" "$SERVER_LOG"; then
        echo "!! the server panicked during run '$name' (count, place, message):" >&2
        grep -a -A1 "panicked at" "$SERVER_LOG" | grep -a -v -e '^--$' |
            sed -E "s/^thread '[^']*' \([0-9]+\) //" | sort | uniq -c >&2
        [ "$rc" -ne 0 ] || rc=1
    fi
    [ "$rc" -eq 0 ] || FAILED+=("$name")
}

START=$(date +%s)
for run in $RUNS; do
    start_server "$run"
    if [ "$run" = main ]; then
        run_st main --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --exclude-operation-id-regex "$WORLD_RESHAPING|$DASHBOARD"
    elif [ "$run" = methods ]; then
        run_st methods --checks unsupported_method --phases coverage --max-examples "$MAX_EXAMPLES" \
            --exclude-operation-id-regex "$WORLD_RESHAPING|$DASHBOARD"
    elif [ -n "${OPS[$run]:-}" ]; then
        phases=examples,coverage,fuzzing
        [ "$run" != faults ] || phases=$phases,stateful # the only run whose operations have links
        run_st "$run" --checks "$CHECKS" --max-examples "$ISOLATED_EXAMPLES" --phases "$phases" \
            --include-operation-id-regex "${OPS[$run]}"
    else
        echo "unknown run '$run' (known: main ${!OPS[*]} methods)" >&2
        exit 2
    fi
    stop_server
done
ELAPSED=$(($(date +%s) - START))

# --- 4. verdict -------------------------------------------------------------------------------------------
if [ ${#FAILED[@]} -gt 0 ]; then
    log "contract check FAILED in ${ELAPSED}s, runs: ${FAILED[*]} (reports and server logs in ${REPORT_DIR#"$ROOT"/})"
    exit 1
fi
log "contract check passed in ${ELAPSED}s (runs: $RUNS)"
