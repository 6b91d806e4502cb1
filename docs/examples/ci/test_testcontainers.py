"""Testcontainers for Python (PyPI `testcontainers`) starting the recmock image (docs/ci.md).

Run with `TESTCONTAINERS_RYUK_DISABLED=true pytest`: Ryuk, Testcontainers' cleanup container, is an image
pull (set below too, before testcontainers is imported). The image has no shell, so readiness is an HTTP
wait on /__admin/health. A module-scoped container: each test resets the world it changes.
"""

import hashlib
import json
import os
import pathlib

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import pytest  # noqa: E402
import requests  # noqa: E402
from testcontainers.core.container import DockerContainer  # noqa: E402
from testcontainers.core.wait_strategies import HttpWaitStrategy  # noqa: E402

IMAGE = os.environ.get("RECMOCK_IMAGE", "recmock:0.1.0")
FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "10-classroom.json"
SDKAPPID, TIC_KEY = 1400500001, "ci-example-tic-key-0000000000001"


@pytest.fixture(scope="module")
def recmock():
    container = (
        DockerContainer(IMAGE)
        .with_exposed_ports(8080)
        .with_env("RECMOCK_FROZEN_CLOCK", "true")
        .waiting_for(HttpWaitStrategy(8080, "/__admin/health").for_status_code(200))
    )
    with container:
        yield f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8080)}"


def signed(base, now):
    """004's signature on the URL: md5(tic_key + expire_time), expire_time also in the body."""
    expire = now + 300
    sign = hashlib.md5(f"{TIC_KEY}{expire}".encode()).hexdigest()
    return f"sdkappid={SDKAPPID}&random=1&sign={sign}", expire


def test_fixture_vendor_call_and_callback_log(recmock):
    # Load a fixture into the running world (its callback URL leads nowhere here: callbacks fail and are
    # logged with every attempt).
    world = json.loads(FIXTURE.read_text())
    world["iclass"]["apps"][0]["callback_url"] = "http://127.0.0.1:9/nobody"
    r = requests.post(f"{recmock}/__admin/fixtures", json=world, timeout=10)
    assert r.status_code == 200, r.text
    now = requests.get(f"{recmock}/__admin/clock", timeout=10).json()["now"]

    # One vendor call: the teacher creates a class.
    query, expire = signed(recmock, now)
    r = requests.post(
        f"{recmock}/paas/v1/class/create?{query}",
        json={"expire_time": expire, "teacher_id": "t1", "class_topic": "Algebra"},
        timeout=10,
    )
    assert r.json()["error_code"] == 0, r.text
    class_id = r.json()["class_id"]

    # The class begins (a world event), and the callback log shows class_begin.
    r = requests.post(
        f"{recmock}/__admin/events",
        json={"type": "iclass.class_begin", "sdkappid": SDKAPPID, "class_id": class_id},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    log = requests.get(f"{recmock}/__admin/callbacks", params={"vendor": "iclass"}, timeout=10).json()
    events = [c["event"] for c in log["callbacks"] if c["payload"]["data"].get("class_id") == class_id]
    assert events[0] == "class_begin", log
