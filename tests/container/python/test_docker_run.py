"""docs/ci.md's `docker run` recipe: the image with a fixture directory mounted at /fixtures and a published
port, RECMOCK_PUBLIC_URL naming that port on the host, and a receiver on the host that gets the callbacks
from inside the container (`--add-host host.docker.internal:host-gateway`) and downloads the files they
name — through the URLs recmock put in them, from the host."""

import hashlib
import http.server
import json
import os
import pathlib
import socket
import subprocess
import threading
import urllib.request

import pytest
import requests

IMAGE = os.environ["RECMOCK_IMAGE"]
BIN = os.environ["RECMOCK_BIN"]
EXAMPLE = pathlib.Path(__file__).parents[3] / "docs" / "examples" / "ci" / "fixtures" / "10-classroom.json"
SDKAPPID, TIC_KEY = 1400500001, "ci-example-tic-key-0000000000001"


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def bridge_gateway():
    """The host's address on Docker's default bridge: what host-gateway resolves to inside a container."""
    out = subprocess.run(
        ["docker", "network", "inspect", "bridge", "-f", "{{(index .IPAM.Config 0).Gateway}}"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


class Receiver:
    """A callback receiver on the host: answers 004's `{"error_code":0}` and downloads every video URL a
    callback names (as a backend would), recording what it got."""

    def __init__(self, host):
        self.callbacks, self.downloads = [], []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                receiver.callbacks.append({"path": self.path, "body": body})
                for v in body.get("data", {}).get("video_info", []):
                    with urllib.request.urlopen(v["video_url"], timeout=30) as r:
                        data = r.read()
                    receiver.downloads.append(
                        {"url": v["video_url"], "status": r.status, "size": len(data), "video_size": v["video_size"]}
                    )
                answer = b'{"error_code":0}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def world(tmp_path):
    # The receiver listens on the bridge's host address only: reachable from containers, nowhere else.
    receiver = Receiver(bridge_gateway())
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    fixtures.chmod(0o755)
    doc = json.loads(EXAMPLE.read_text())
    doc["iclass"]["apps"][0]["callback_url"] = f"http://host.docker.internal:{receiver.port}/recmock/callbacks"
    (fixtures / "10-classroom.json").write_text(json.dumps(doc))
    (fixtures / "10-classroom.json").chmod(0o644)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The recipe of docs/ci.md, with this test's ports.
    cid = subprocess.run(
        [
            "docker", "run", "-d", "--rm", "--label", "rmtest=docker_run",
            "-p", f"127.0.0.1:{port}:8080",
            "-v", f"{fixtures}:/fixtures:ro",
            "-e", f"RECMOCK_PUBLIC_URL={base}",
            "-e", "RECMOCK_FROZEN_CLOCK=true",
            "--add-host", "host.docker.internal:host-gateway",
            IMAGE,
        ],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    try:
        subprocess.run([BIN, "wait", "--url", base, "--timeout", "30"], check=True, capture_output=True)
        yield base, receiver
    finally:
        subprocess.run(["docker", "rm", "-fv", cid], capture_output=True)
        receiver.close()


def signed(now):
    expire = now + 300
    return f"sdkappid={SDKAPPID}&random=1&sign={hashlib.md5(f'{TIC_KEY}{expire}'.encode()).hexdigest()}", expire


def test_fixture_port_callbacks_to_the_host_and_their_files_download(world):
    base, receiver = world
    # The mounted fixture, not the demo world.
    tenants = requests.get(f"{base}/__admin/tenants", timeout=10).json()["tenants"]
    assert tenants == [f"iclass:{SDKAPPID}"], tenants

    now = requests.get(f"{base}/__admin/clock", timeout=10).json()["now"]
    query, expire = signed(now)
    r = requests.post(
        f"{base}/paas/v1/class/create?{query}",
        json={
            "expire_time": expire, "teacher_id": "t1", "class_topic": "Algebra",
            "members": [{"role": "student", "user_id": "s1"}],
            "settings": {"record_types": ["remote"]},
            "record_user_id": "tic_recorduser_algebra_1", "record_user_sig": "sig",
        },
        timeout=10,
    ).json()
    assert r["error_code"] == 0, r
    class_id = r["class_id"]
    event = lambda e: requests.post(f"{base}/__admin/events", json=e, timeout=30)
    advance = lambda s: requests.post(f"{base}/__admin/clock/advance", json={"seconds": s}, timeout=60)
    assert event({"type": "iclass.class_begin", "sdkappid": SDKAPPID, "class_id": class_id,
                  "streams": [{"user_id": "t1", "video_type": 0}]}).status_code == 200
    advance(600)
    assert event({"type": "iclass.class_over", "sdkappid": SDKAPPID, "class_id": class_id}).status_code == 200
    advance(20)  # processing: online_record_stop is delivered before the advance answers

    got = [c["body"]["event"] for c in receiver.callbacks]
    assert got == ["class_begin", "online_record_start", "class_over", "online_record_stop"], got
    assert all(c["path"].startswith("/recmock/callbacks?") for c in receiver.callbacks)
    assert receiver.downloads, "online_record_stop names files"
    for d in receiver.downloads:
        assert d["url"].startswith(f"{base}/files/"), d  # RECMOCK_PUBLIC_URL: the host's view
        assert d["status"] == 200 and d["size"] == d["video_size"], d
    log = requests.get(f"{base}/__admin/callbacks", timeout=10).json()
    assert {c["state"] for c in log["callbacks"]} == {"delivered"}, log


def test_answers_follow_the_host_each_client_used(world):
    """An answer's URLs are on the address the request came in on, whatever RECMOCK_PUBLIC_URL says."""
    base, _ = world
    now = requests.get(f"{base}/__admin/clock", timeout=10).json()["now"]
    query, expire = signed(now)
    body = {"expire_time": expire, "teacher_id": "t1", "class_topic": "Maths"}
    port = base.rsplit(":", 1)[1]
    # The same port under another name too, as a sibling container asks `recmock:8080`.
    for host in [f"127.0.0.1:{port}", f"recmock.internal:{port}"]:
        a = requests.post(f"{base}/paas/v1/class/create?{query}", json=body, headers={"Host": host}, timeout=10).json()
        assert a["error_code"] == 0, a
        assert a["teacher_url"].startswith(f"http://{host}/"), a
