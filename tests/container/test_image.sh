#!/usr/bin/env bash
# The image as built (`make image`, in $RECMOCK_IMAGE): FROM scratch facts, the way it starts, its
# HEALTHCHECK, the state file only with RECMOCK_STATE_FILE, the local CA kept in the /data volume, and how
# soon it answers (reported; the targets live in docs/performance.md, not in a pass/fail here).
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${RECMOCK_IMAGE:?run through tests/container/run.sh}
BIN=${RECMOCK_BIN:?run through tests/container/run.sh}
tag=rmtest-$$
passed=0
failed=0
ok() { echo "ok     $*"; passed=$((passed + 1)); }
bad() { echo "FAILED $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
has() { grep -qF -- "$2" <<<"$1"; }    # has TEXT PART
cleanup() {
    docker ps -aq --filter "label=rmtest=$tag" | xargs -r docker rm -fv >/dev/null 2>&1 || true
    docker volume ls -q --filter "label=rmtest=$tag" | xargs -r docker volume rm >/dev/null 2>&1 || true
    rm -rf "${scratch:-}"
}
trap cleanup EXIT
scratch=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
inspect() { docker image inspect -f "$1" "$IMAGE"; }

# --- what the image is -------------------------------------------------------------------------------------
size=$(inspect '{{.Size}}')
check "image is at most 25 MB ($(( size / 1000 / 1000 )) MB, $size bytes)" test "$size" -le 25000000
check "image is amd64/linux ($(inspect '{{.Architecture}}/{{.Os}}'))" test "$(inspect '{{.Architecture}}/{{.Os}}')" = amd64/linux
check "runs as the non-root user 10001 ($(inspect '{{.Config.User}}'))" test "$(inspect '{{.Config.User}}')" = 10001:10001
check "one layer set FROM scratch: no shell (/bin/sh cannot start)" \
    bash -c "! docker run --rm --label rmtest=$tag --entrypoint /bin/sh '$IMAGE' -c true >/dev/null 2>&1"
check "HEALTHCHECK runs the binary itself (recmock wait)" \
    bash -c "docker image inspect -f '{{json .Config.Healthcheck.Test}}' '$IMAGE' | grep -q '\"/usr/local/bin/recmock\",\"wait\"'"
check "VOLUME /data" bash -c "docker image inspect -f '{{json .Config.Volumes}}' '$IMAGE' | grep -q '\"/data\"'"
files=$(docker create --label "rmtest=$tag" "$IMAGE")
docker export "$files" | tar -t | sort >"$scratch/files"
docker rm -v "$files" >/dev/null
want_libs=$(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print substr($3, 2) } $1 ~ /^\// { print substr($1, 2) }' | sort)
have_libs=$(grep -E '\.so(\.[0-9]+)*$' "$scratch/files" | sort)
check "exactly the libraries ldd lists ($(echo $have_libs))" test "$want_libs" = "$have_libs"
check "CA certificates" grep -qx 'etc/ssl/certs/ca-certificates.crt' "$scratch/files"
passwd=$(docker cp "$(docker create --label "rmtest=$tag" "$IMAGE")":/etc/passwd - | tar -xO)
check "/etc/passwd names the user recmock (10001, home /data)" \
    has "$passwd" "recmock:x:10001:10001:recmock:/data:/sbin/nologin"
programs=$(grep -vE '/$|\.so(\.[0-9]+)*$|^etc/|^\.dockerenv$|^(dev|proc|sys)/' "$scratch/files" | tr '\n' ' ')
check "no program but recmock ($programs)" test "$programs" = "usr/local/bin/recmock "

# --- it starts, says how it is bound, and turns healthy -----------------------------------------------------
port=$(free_port)
c=$(docker run -d --label "rmtest=$tag" -p "127.0.0.1:$port:8080" "$IMAGE")
check "recmock wait from the host sees it" "$BIN" wait --url "http://127.0.0.1:$port" --timeout 20
check "the banner says it binds 0.0.0.0 (every interface)" \
    bash -c "docker logs '$c' 2>/dev/null | head -1 | grep -q 'bound to 0.0.0.0:8080: every interface'"
check "no fixtures mounted: the demo world" \
    bash -c "'$BIN' wait --url http://127.0.0.1:$port >/dev/null && python3 - <<PY
import json, urllib.request
t = json.load(urllib.request.urlopen('http://127.0.0.1:$port/__admin/tenants'))['tenants']
assert 'cloud_record:demo_app_0001' in t, t
PY"
health=starting
for _ in $(seq 60); do
    health=$(docker inspect -f '{{.State.Health.Status}}' "$c")
    [ "$health" = healthy ] && break
    sleep 0.5
done
check "the HEALTHCHECK turns healthy ($health)" test "$health" = healthy
docker stop -t 10 "$c" >/dev/null
check "it stops on SIGTERM with status 0" test "$(docker inspect -f '{{.State.ExitCode}}' "$c")" = 0
docker rm -v "$c" >/dev/null

# --- the state file only with RECMOCK_STATE_FILE; the local CA kept in the volume ---------------------------
vol=rmtest-data-$$
docker volume create --label "rmtest=$tag" "$vol" >/dev/null
listing() { # the files of /data in the volume, through a stopped container (the image has no ls)
    local l
    l=$(docker create --label "rmtest=$tag" -v "$vol:/data" "$IMAGE")
    docker cp "$l:/data" - 2>/dev/null | tar -t | sort | tr '\n' ' '
    docker rm -v "$l" >/dev/null
}
run_on_volume() { # run the image on the volume with extra arguments until it answers, then stop it
    local p c
    p=$(free_port)
    c=$(docker run -d --label "rmtest=$tag" -v "$vol:/data" -p "127.0.0.1:$p:8080" "$@" "$IMAGE")
    "$BIN" wait --url "http://127.0.0.1:$p" --timeout 20 >/dev/null
    docker stop -t 10 "$c" >/dev/null
    docker logs "$c" 2>/dev/null
    docker rm -v "$c" >/dev/null
}
run_on_volume >/dev/null
check "no state file without RECMOCK_STATE_FILE (/data: $(listing))" test "$(listing)" = "data/ "
run_on_volume -e RECMOCK_STATE_FILE=/data/state.json >/dev/null
check "RECMOCK_STATE_FILE=/data/state.json writes it on stop ($(listing))" has "$(listing)" "data/state.json"
first=$(run_on_volume -e RECMOCK_TLS_PORT=8443)
check "--tls-port makes the local CA in /data/tls" has "$first" "TLS CA   : /data/tls/ca.pem (created now"
second=$(run_on_volume -e RECMOCK_TLS_PORT=8443)
check "a second container on the volume reuses the CA" has "$second" "TLS CA   : /data/tls/ca.pem (trust"

# --- how soon it answers ----------------------------------------------------------------------------------
# From `docker run` (the CLI call) and from the container's start (docker's StartedAt: when the process was
# started) to the first 200 of /__admin/health through the published port, polled every millisecond.
python3 - "$IMAGE" "$tag" <<'PY' || bad "startup timing"
import datetime, json, socket, subprocess, sys, time, urllib.request
image, tag = sys.argv[1], sys.argv[2]
after_run, after_start, cli = [], [], []
for _ in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    t0 = time.time()
    cid = subprocess.run(["docker", "run", "-d", "--label", f"rmtest={tag}", "-p", f"127.0.0.1:{port}:8080", image],
                         check=True, capture_output=True, text=True).stdout.strip()
    cli.append((time.time() - t0) * 1000)
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/__admin/health", timeout=1).status == 200:
                t1 = time.time(); break
        except Exception:
            pass
        if time.time() - t0 > 30:
            sys.exit("no answer within 30 s")
        time.sleep(0.001)
    started = subprocess.run(["docker", "inspect", "-f", "{{.State.StartedAt}}", cid], check=True,
                             capture_output=True, text=True).stdout.strip()
    subprocess.run(["docker", "rm", "-fv", cid], check=True, capture_output=True)
    # RFC 3339 with nanoseconds: keep microseconds for fromisoformat
    head, frac = started.rstrip("Z").split(".")
    start = datetime.datetime.fromisoformat(f"{head}.{frac[:6]}+00:00").timestamp()
    after_run.append((t1 - t0) * 1000); after_start.append((t1 - start) * 1000)
ms = lambda xs: ", ".join(f"{x:.0f}" for x in xs)
print(f"startup: first answer {min(after_start):.0f}–{max(after_start):.0f} ms after the process started "
      f"(target < 100 ms; runs: {ms(after_start)}), {min(after_run):.0f}–{max(after_run):.0f} ms after `docker run` "
      f"(target < 1000 ms; runs: {ms(after_run)}; of which `docker run -d` itself: {ms(cli)})")
PY

echo "image: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
