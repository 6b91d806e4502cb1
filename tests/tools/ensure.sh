#!/usr/bin/env bash
# The one rule for the tools tests need: ensure them before the tests run, install what is missing, and
# when that cannot be done stop with the package names and the command that installs them. A test never
# skips because a tool is missing; a tool that fails to install fails the run (with CI=true, as in .ci/run,
# and without).
#
#   tests/tools/ensure.sh TOOL...        e.g. tests/tools/ensure.sh rust python
#
# `make test` runs it first with the tools the suite needs; `make contract`, `make bench` and
# `make test-container` with theirs. Each tool is one function `tool_<name>` below, and adding a tool is
# adding one: check for it, install it with `apt_install` (Debian packages) or pip (PyPI, into the
# project's virtualenv), and call `missing` with the install command when that fails.
#
#   rust     the toolchain rust-toolchain.toml pins (1.95.0), with clippy and rustfmt. No other toolchain
#            can be fetched on these machines: when rustup has the same version only as `stable`, it is
#            linked under the pinned name (as rustup itself would name it), never downloaded.
#   python   the virtualenv .venv-contract/ with schemathesis (pinned: `st run` flags differ between
#            versions), openapi-spec-validator (make contract) and requests (tests/it/tls.rs runs
#            docs/examples/python_requests.py with it); python3 and its venv module from Debian.
#   wrk      the load generator of `make bench` (Debian package wrk).
#   ffmpeg   ffprobe and ffmpeg (Debian package ffmpeg), which check that recordings are real media, and
#            md5sum (coreutils); test tools only, recmock never runs them.
#   chromium Debian's chromium and its chromedriver (packages chromium, chromium-driver), which the
#            dashboard's browser tests drive headless (tests/it/ui.rs), and a CJK font (fonts-noto-cjk) so
#            Chinese text renders in them. Never a browser a test tool downloads for itself.
#   docker   the docker CLI (Debian package docker.io) and a running daemon (started here when it is not
#            running and this is root), for `make test-container`.
#   image    what `make image` stages into the image besides the binary: ldd (libc-bin), the CA
#            certificates (ca-certificates), strip (binutils); and docker.
#   containerpy  the virtualenv .venv-container/ with pytest, requests and Testcontainers for Python
#            (PyPI `testcontainers`, pinned), for the recipes of docs/ci.md (`make test-container`).
#   node     node and npm (Debian packages nodejs, npm), and npm `testcontainers` (pinned by
#            docs/examples/ci/package-lock.json) installed into docs/examples/ci/node_modules/.
#
# Environment: RECMOCK_NO_INSTALL=1 checks only (installs nothing; a missing tool still stops the run).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

say() { printf 'ensure: %s\n' "$*" >&2; }

# Stop: `what` is missing and could not be installed; `command` installs it.
missing() {
    printf '\nensure: missing, and could not be installed here: %s\n  Install it with:\n    %s\n' "$1" "$2" >&2
    printf '  (tests never skip because a tool is missing: see tests/tools/ensure.sh)\n\n' >&2
    exit 1
}

APT_UPDATED=0
# Install Debian packages as root, or with sudo when it needs no password; refresh the package lists once
# if the first try fails.
apt_install() {
    [ "${RECMOCK_NO_INSTALL:-0}" != 1 ] || return 1
    command -v apt-get >/dev/null || return 1
    local apt=(apt-get)
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null || return 1
        apt=(sudo -n apt-get)
    fi
    say "installing Debian packages: $*"
    local log
    log=$(mktemp)
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@" >"$log" 2>&1; then
        if [ "$APT_UPDATED" = 1 ] || ! "${apt[@]}" update >>"$log" 2>&1 ||
            ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@" >>"$log" 2>&1; then
            tail -5 "$log" >&2
            rm -f "$log"
            return 1
        fi
        APT_UPDATED=1
    fi
    rm -f "$log"
}

# `command`, from the Debian `packages` when it is missing.
need_debian() {
    local cmd=$1
    shift
    command -v "$cmd" >/dev/null && return 0
    apt_install "$@" && command -v "$cmd" >/dev/null && return 0
    missing "$cmd (Debian: $*)" "sudo apt-get install -y $*"
}

# --- rust ------------------------------------------------------------------------------------------------
tool_rust() {
    local pinned
    pinned=$(sed -n 's/^channel *= *"\(.*\)".*/\1/p' rust-toolchain.toml)
    command -v rustup >/dev/null ||
        missing "rustup (with Rust $pinned)" "curl https://sh.rustup.rs -sSf | sh -s -- --default-toolchain $pinned"
    if ! rustup toolchain list | grep -q "^$pinned-"; then
        # The same release may be installed as `stable`: link it under the pinned name rather than let
        # rustup try to download what cannot be fetched here.
        local version host home
        version=$(rustc +stable --version 2>/dev/null | awk '{print $2}') || true
        host=$(rustc +stable -vV 2>/dev/null | sed -n 's/^host: //p') || true
        home=${RUSTUP_HOME:-$HOME/.rustup}
        if [ "$version" = "$pinned" ] && [ -n "$host" ] && [ -d "$home/toolchains/stable-$host" ] &&
            [ "${RECMOCK_NO_INSTALL:-0}" != 1 ]; then
            say "linking the installed stable toolchain ($version) as $pinned-$host"
            ln -s "stable-$host" "$home/toolchains/$pinned-$host"
        else
            missing "Rust $pinned (rust-toolchain.toml; stable here is ${version:-absent})" \
                "rustup toolchain install $pinned --component clippy,rustfmt"
        fi
    fi
    local c
    for c in clippy rustfmt; do
        rustup component list --toolchain "$pinned" --installed 2>/dev/null | grep -q "^$c" ||
            missing "the $c component of Rust $pinned" "rustup component add $c --toolchain $pinned"
    done
}

# --- python ----------------------------------------------------------------------------------------------
VENV=$ROOT/.venv-contract
SCHEMATHESIS_VERSION=4.32.5
PY_PACKAGES=("schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator>=0.7" "requests>=2.31")

python_ready() {
    [ -x "$VENV/bin/st" ] && [ -x "$VENV/bin/openapi-spec-validator" ] &&
        "$VENV/bin/python" - "$SCHEMATHESIS_VERSION" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
assert m.version("schemathesis") == sys.argv[1]
m.version("openapi-spec-validator")
import requests
PY
}

tool_python() {
    need_debian python3 python3
    python_ready && return 0
    venv_install "$VENV" .venv-contract python_ready python "${PY_PACKAGES[@]}"
}

# Make the virtualenv DIR (NAME in messages: `.venv-contract`) when it does not work, install PACKAGES from
# PyPI into it, and check it with the function READY; stop naming what failed and the command for TOOL.
#   venv_install DIR NAME READY TOOL PACKAGE...
venv_install() {
    local dir=$1 name=$2 ready=$3 tool=$4
    shift 4
    [ "${RECMOCK_NO_INSTALL:-0}" != 1 ] || missing "the Python tools in $name/" \
        "python3 -m venv $name && $name/bin/pip install $(printf "'%s' " "$@")"
    if ! "$dir/bin/python" -c '' 2>/dev/null; then
        python3 -m venv --clear "$dir" 2>/dev/null ||
            { apt_install python3-venv && python3 -m venv --clear "$dir"; } ||
            missing "Python's venv module (Debian: python3-venv)" "sudo apt-get install -y python3-venv"
    fi
    say "installing $* from PyPI into $name/"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" ||
        missing "the PyPI packages $*" "$name/bin/pip install $(printf "'%s' " "$@")"
    "$ready" || missing "a working $name/ ($*)" "rm -rf $name && tests/tools/ensure.sh $tool"
}

# --- wrk -------------------------------------------------------------------------------------------------
tool_wrk() {
    need_debian wrk wrk
}

# --- ffmpeg ------------------------------------------------------------------------------------------------
# ffprobe and ffmpeg read and decode every recording recmock makes (tests/it/media.rs, recordings.rs and the
# unit test media::tests::decoded_pixels); recmock itself never runs them.
tool_ffmpeg() {
    need_debian ffprobe ffmpeg
    need_debian ffmpeg ffmpeg
    need_debian md5sum coreutils
}

# --- chromium --------------------------------------------------------------------------------------------
# The dashboard's tests start /usr/bin/chromedriver with /usr/bin/chromium (tests/it/ui.rs).
tool_chromium() {
    need_debian chromium chromium
    need_debian chromedriver chromium-driver
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
        missing "chromium and chromedriver in /usr/bin (Debian: chromium chromium-driver)" \
            "sudo apt-get install -y chromium chromium-driver"
    if ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
        apt_install fonts-noto-cjk ||
            missing "a CJK font for Chinese text (Debian: fonts-noto-cjk)" "sudo apt-get install -y fonts-noto-cjk"
    fi
}

# --- docker ----------------------------------------------------------------------------------------------
# The CLI and a daemon it reaches. A machine's processes do not outlive its session, so CI starts the
# daemon itself (as root, in the background, logging to target/dockerd.log; it keeps running afterwards).
tool_docker() {
    need_debian docker docker.io
    docker info >/dev/null 2>&1 && return 0
    if [ "${RECMOCK_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null; then
        mkdir -p target
        say "starting dockerd (log: target/dockerd.log)"
        nohup dockerd >target/dockerd.log 2>&1 &
        local _
        for _ in $(seq 60); do
            docker info >/dev/null 2>&1 && return 0
            sleep 0.5
        done
        tail -5 target/dockerd.log >&2 || true
    fi
    missing "a running Docker daemon (\`docker info\` fails)" "sudo systemctl start docker   # or: sudo dockerd &"
}

# --- image -----------------------------------------------------------------------------------------------
# `make image` copies the libraries `ldd` lists and the system's CA certificates into the image.
tool_image() {
    need_debian ldd libc-bin
    need_debian strip binutils
    if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
        apt_install ca-certificates && [ -s /etc/ssl/certs/ca-certificates.crt ] ||
            missing "the CA certificates /etc/ssl/certs/ca-certificates.crt (Debian: ca-certificates)" \
                "sudo apt-get install -y ca-certificates"
    fi
    tool_docker
}

# --- containerpy -----------------------------------------------------------------------------------------
# The Python side of docs/ci.md's recipes: pytest runs docs/examples/ci/ (Testcontainers for Python and the
# pytest fixture that runs the binary) and tests/container/python/ (docker run with a receiver on the host).
CONTAINER_VENV=$ROOT/.venv-container
CONTAINER_PY=("pytest==9.2.0" "requests==2.34.2" "testcontainers==4.15.0")

container_py_ready() {
    "$CONTAINER_VENV/bin/python" - "${CONTAINER_PY[@]}" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    assert m.version(name) == version, spec
import testcontainers.core.wait_strategies, pytest, requests
PY
}

tool_containerpy() {
    need_debian python3 python3
    container_py_ready && return 0
    venv_install "$CONTAINER_VENV" .venv-container container_py_ready containerpy "${CONTAINER_PY[@]}"
}

# --- node ------------------------------------------------------------------------------------------------
# Testcontainers for Node (npm `testcontainers`, the version docs/examples/ci/package-lock.json pins: 11.x,
# as 12 needs Node 22 and Debian's is older), for the Node recipe of docs/ci.md.
tool_node() {
    need_debian node nodejs
    need_debian npm npm
    local dir=$ROOT/docs/examples/ci
    if [ -f "$dir/node_modules/testcontainers/package.json" ] &&
        cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
        return 0
    fi
    [ "${RECMOCK_NO_INSTALL:-0}" != 1 ] || missing "npm testcontainers in docs/examples/ci/node_modules/" \
        "(cd docs/examples/ci && npm ci)"
    say "installing npm testcontainers into docs/examples/ci/node_modules/ (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        missing "npm testcontainers (docs/examples/ci/package-lock.json)" "(cd docs/examples/ci && npm ci)"
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
}

# ---------------------------------------------------------------------------------------------------------
TOOLS=$(declare -F | sed -n 's/^declare -f tool_//p' | tr '\n' ' ')
[ $# -gt 0 ] || { echo "usage: tests/tools/ensure.sh TOOL... (tools: $TOOLS)" >&2; exit 2; }
for tool in "$@"; do
    if ! declare -F "tool_$tool" >/dev/null; then
        echo "ensure: no tool '$tool' (tools: $TOOLS)" >&2
        exit 2
    fi
    "tool_$tool"
    say "$tool ok"
done
