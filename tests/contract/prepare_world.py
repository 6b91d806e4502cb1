#!/usr/bin/env python3
"""Prepare the demo world for the contract run and check the access-token path.

Usage: prepare_world.py BASE_URL

1. GET /access/token with the demo credentials, and one vendor request with that access token.
2. Record a short manual task in `demo_group` (init, set/layout, 90 s, finish, 30 s of processing), so
   that a recorded file exists: prints `<key> <name>` of its download URL on stdout, which the contract
   run hands to schemathesis for GET/HEAD /files/{key}/{name}.

Standard library only; any unexpected answer is an error (exit status 1).
"""

import json
import sys
import urllib.parse
import urllib.request

DEV_ID, TOKEN, APP_ID = "demo_dev_0001", "demo-token-0001", "demo_app_0001"


def call(base, method, path, body=None, auth=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", auth)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def expect_ok(answer, what):
    if answer.get("code") != 0:
        sys.exit(f"prepare_world: {what} failed: {answer}")
    return answer


def main():
    base = sys.argv[1].rstrip("/")
    q = urllib.parse.urlencode({"dev_id": DEV_ID, "token": TOKEN})
    token = expect_ok(call(base, "GET", f"/access/token?{q}"), "GET /access/token")["result"]["access_token"]
    expect_ok(call(base, "GET", f"/v1/record/task/list?app_id={APP_ID}", auth=token), "task/list with the access token")
    print(f"prepare_world: access token {token} accepted", file=sys.stderr)

    auth = f"{DEV_ID}.{TOKEN}"
    rid = expect_ok(
        call(base, "POST", "/v1/record/init",
             {"app_id": APP_ID, "group_id": "demo_group", "seq": "contract", "file_name": "contract"}, auth),
        "init",
    )["record_id"]
    expect_ok(
        call(base, "POST", "/v1/record/set/layout",
             {"app_id": APP_ID, "record_id": rid, "seq": "contract",
              "audio_list": [{"user_id": "teacher", "media_id": "1", "media_type": 1}],
              "video_list": [{"user_id": "teacher", "media_id": "0", "media_type": 2}]}, auth),
        "set/layout",
    )
    call(base, "POST", "/__admin/clock/advance", {"seconds": 90})
    expect_ok(call(base, "POST", "/v1/record/finish", {"app_id": APP_ID, "record_id": rid}, auth), "finish")
    call(base, "POST", "/__admin/clock/advance", {"seconds": 30})
    files = expect_ok(
        call(base, "GET", f"/v1/record/file/download/url?app_id={APP_ID}&record_id={rid}", auth=auth),
        "download/url",
    )["data_list"]
    if not files:
        sys.exit(f"prepare_world: task {rid} has no files")
    key, name = urllib.parse.urlparse(files[0]["url"]).path.split("/")[2:4]
    print(f"prepare_world: task {rid} recorded /files/{key}/{name}", file=sys.stderr)
    print(key, name)


if __name__ == "__main__":
    main()
