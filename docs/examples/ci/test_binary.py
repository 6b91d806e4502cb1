"""The pytest fixture of conftest.py in use: recmock from its binary, no Docker (docs/ci.md)."""

import requests


def test_the_demo_world_answers(recmock_url):
    health = requests.get(f"{recmock_url}/__admin/health", timeout=10).json()
    assert health["status"] == "ok"
    token = requests.get(
        f"{recmock_url}/access/token",
        params={"dev_id": "demo_dev_0001", "token": "demo-token-0001"},
        timeout=10,
    ).json()
    assert token["result"]["access_token"], token
