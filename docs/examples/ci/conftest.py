"""A pytest fixture that runs recmock from its binary, without Docker (docs/ci.md, "pytest without Docker").

Copy this file into your tests' folder. The binary is `recmock` on the PATH (`make install`), or the one
RECMOCK_BIN names. Each test module gets its own server on a free port, stopped afterwards; the fixture's
value is the server's base URL.

    def test_health(recmock_url):
        assert requests.get(f"{recmock_url}/__admin/health").json()["status"] == "ok"
"""

import os
import shutil
import subprocess

import pytest


@pytest.fixture(scope="module")
def recmock_url():
    binary = os.environ.get("RECMOCK_BIN") or shutil.which("recmock")
    if not binary:
        pytest.fail("no recmock binary: `make install` puts it on the PATH, or set RECMOCK_BIN")
    # --port 0 picks a free port; the banner's first line names the URL.
    proc = subprocess.Popen(
        [binary, "--port", "0", "--frozen-clock", "--seed", "1", "--log-level", "warn"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        url = next((w for w in first.split() if w.startswith("http://")), None)
        if url is None:
            pytest.fail(f"recmock did not start: {first!r}")
        # Ready when `recmock wait` says so (it exits 1 with a message after the timeout).
        subprocess.run([binary, "wait", "--url", url, "--timeout", "10"], check=True, capture_output=True)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
