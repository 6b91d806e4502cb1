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
    [ "${RECMOCK_NO_INSTALL:-0}" != 1 ] || missing "the Python tools in .venv-contract/" \
        "python3 -m venv .venv-contract && .venv-contract/bin/pip install $(printf "'%s' " "${PY_PACKAGES[@]}")"
    if ! "$VENV/bin/python" -c '' 2>/dev/null; then
        python3 -m venv --clear "$VENV" 2>/dev/null ||
            { apt_install python3-venv && python3 -m venv --clear "$VENV"; } ||
            missing "Python's venv module (Debian: python3-venv)" "sudo apt-get install -y python3-venv"
    fi
    say "installing ${PY_PACKAGES[*]} from PyPI into .venv-contract/"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}" ||
        missing "the PyPI packages ${PY_PACKAGES[*]}" \
            ".venv-contract/bin/pip install $(printf "'%s' " "${PY_PACKAGES[@]}")"
    python_ready || missing "a working .venv-contract/ (schemathesis $SCHEMATHESIS_VERSION, requests)" \
        "rm -rf .venv-contract && tests/tools/ensure.sh python"
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
