#!/usr/bin/env python3
"""Prepare the demo world for the contract run, and render the schemathesis configuration for it.

Usage: prepare_world.py BASE_URL RECMOCK_BINARY CONFIG_TEMPLATE CONFIG_OUT

Against a server started with the embedded demo world (fixtures/demo.json) and a frozen clock:

1. cloud_record (001): GET /access/token with the demo credentials, one vendor request with that access token,
   and a short manual task in `demo_group` (init, set/layout, 90 s, finish, 30 s of processing), so that a
   recorded file exists for GET/HEAD /files/{key}/{name}.
2. ilvb_edu (000): a valid `usersig` for the demo app's admin, made by `recmock sig usersig` at the server's
   virtual now (GET /__admin/clock) for 180 days; `req_record` of room 3003 (whose class has ended) with it.
3. iclass (004): a runtime fixture adds classes 100012345 (1vN, for class/info and class/modify),
   100012346 (for class/delete) and 100012347 (cloud recording), documents contract-doc-1 (transcoded) and
   contract-doc-2 (for document/delete); document/add (signed with md5(tic_key + expire_time)) starts an H5
   transcode; class 100012347 begins and ends with the teacher's camera on.
4. meeting (003): enterprise 52 records conference 1866 for 60 s (a processed recording with a file) and opens
   its live; the recording's id, its file row's id and the live's id go into the dictionaries.
5. Callbacks: the same fixture makes 000's retry policy "no retries"; virtual time moves on so that 000's
   1000/1001, 004's class_begin, online_record_start, class_over, online_record_stop and transport_progress
   exist. 000's callback URL is then set to a closed loopback port, so its callbacks end `failed` (and can be
   redelivered); 004's stay `held` (no URL: redelivery answers 409).
6. Renders CONFIG_TEMPLATE into CONFIG_OUT, replacing @FILE_KEY@, @FILE_NAME@, @USERSIG@, @CALLBACK_IDS@,
   @MEETING_RECORD_IDS@ and @MEETING_LIVE_ID@.

Standard library only; any unexpected answer is an error (exit status 1).
"""

import hashlib
import json
import pathlib
import subprocess
import sys
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "fixtures" / "demo.json").read_text())

DEV_ID, TOKEN, APP_ID = "demo_dev_0001", "demo-token-0001", "demo_app_0001"
EDU_APP = DEMO["ilvb_edu"]["apps"][0]
EDU_SDKAPPID, EDU_KEY = EDU_APP["sdkappid"], EDU_APP["key"]
TIC_APP = DEMO["iclass"]["apps"][0]
TIC_SDKAPPID, TIC_KEY = TIC_APP["sdkappid"], TIC_APP["tic_key"]
# What the spec's 004 examples use: 2100-01-01, far in the future of any run.
TIC_EXPIRE = 4102444800
MEETING_TENANT = next(t for t in DEMO["meeting"]["tenants"] if t["cloud"] == "public")
MEETING_AUTH = MEETING_TENANT["auth"]
# A closed loopback port: 000's deliveries fail at once (run.sh also routes every delivery to a closed proxy).
DEAD_URL = "http://127.0.0.1:9/contract-callbacks"


def log(msg):
    print(f"prepare_world: {msg}", file=sys.stderr)


def call(base, method, path, body=None, auth=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", auth)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def expect(answer, what, key="code"):
    if answer.get(key) != 0:
        sys.exit(f"prepare_world: {what} failed: {answer}")
    return answer


def advance(base, seconds):
    return call(base, "POST", "/__admin/clock/advance", {"seconds": seconds})


def record_a_file(base):
    q = urllib.parse.urlencode({"dev_id": DEV_ID, "token": TOKEN})
    token = expect(call(base, "GET", f"/access/token?{q}"), "GET /access/token")["result"]["access_token"]
    expect(call(base, "GET", f"/v1/record/task/list?app_id={APP_ID}", auth=token), "task/list with the access token")
    log(f"access token {token} accepted")
    auth = f"{DEV_ID}.{TOKEN}"
    rid = expect(
        call(base, "POST", "/v1/record/init",
             {"app_id": APP_ID, "group_id": "demo_group", "seq": "contract", "file_name": "contract"}, auth),
        "init",
    )["record_id"]
    expect(
        call(base, "POST", "/v1/record/set/layout",
             {"app_id": APP_ID, "record_id": rid, "seq": "contract",
              "audio_list": [{"user_id": "teacher", "media_id": "1", "media_type": 1}],
              "video_list": [{"user_id": "teacher", "media_id": "0", "media_type": 2}]}, auth),
        "set/layout",
    )
    advance(base, 90)
    expect(call(base, "POST", "/v1/record/finish", {"app_id": APP_ID, "record_id": rid}, auth), "finish")
    advance(base, 30)
    files = expect(
        call(base, "GET", f"/v1/record/file/download/url?app_id={APP_ID}&record_id={rid}", auth=auth),
        "download/url",
    )["data_list"]
    if not files:
        sys.exit(f"prepare_world: task {rid} has no files")
    key, name = urllib.parse.urlparse(files[0]["url"]).path.split("/")[2:4]
    log(f"task {rid} recorded /files/{key}/{name}")
    return key, urllib.parse.unquote(name)


def usersig(binary, now):
    out = subprocess.run(
        [binary, "sig", "usersig", "--sdkappid", str(EDU_SDKAPPID), "--key", EDU_KEY, "--identifier", "admin",
         "--time", str(now), "--expire", "15552000"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def edu(base, sig, body):
    q = urllib.parse.urlencode(
        {"sdkappid": EDU_SDKAPPID, "identifier": "admin", "usersig": sig, "contenttype": "json"})
    return call(base, "POST", f"/v4/ilvb_edu/record?{q}", {"cmd": "open_record_svc", **body})


def tic(base, path, body):
    sign = hashlib.md5(f"{TIC_KEY}{TIC_EXPIRE}".encode()).hexdigest()
    q = urllib.parse.urlencode({"sdkappid": TIC_SDKAPPID, "random": 1, "sign": sign})
    return call(base, "POST", f"/paas/v1/{path}?{q}", {"expire_time": TIC_EXPIRE, **body})


def meeting(base, api, body):
    answer = call(base, "POST", f"/meeting/{api}", body, headers={"auth": MEETING_AUTH})
    if answer.get("state") != 1:
        sys.exit(f"prepare_world: meeting {api} failed: {answer}")
    return answer.get("data")


def main():
    base, binary, template, out = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4]
    key, name = record_a_file(base)

    now = call(base, "GET", "/__admin/clock")["now"]
    sig = usersig(binary, now)
    expect(edu(base, sig, {"sub_cmd": "query_record_result", "class_roomid": 3003}), "000 query_record_result",
           "error_code")
    log(f"000 usersig made at virtual time {now} accepted")

    app = TIC_SDKAPPID
    fixture = {
        "callbacks": {"ilvb_edu": {"retries": 0, "interval_s": 60}},
        "iclass": {
            "classes": [
                {"sdkappid": app, "class_id": 100012345, "teacher_id": "demo_teacher", "class_type": "1vN",
                 "members": [{"role": "student", "user_id": "demo_student_1"}]},
                {"sdkappid": app, "class_id": 100012346, "teacher_id": "demo_teacher"},
                {"sdkappid": app, "class_id": 100012347, "teacher_id": "demo_teacher",
                 "record_types": ["local", "remote"], "record_user_id": "tic_recorduser100012347_1",
                 "record_user_sig": "contract"},
            ],
            "documents": [
                {"sdkappid": app, "doc_id": "contract-doc-1", "doc_url": "https://cos.example/a.pptx",
                 "doc_name": "a", "doc_ext": "pptx", "is_transcode": True, "owner": "demo_teacher"},
                {"sdkappid": app, "doc_id": "contract-doc-2", "doc_url": "https://cos.example/b.pdf",
                 "doc_name": "b"},
            ],
        },
    }
    loaded = call(base, "POST", "/__admin/fixtures?name=contract", fixture)
    if "loaded" not in loaded:
        sys.exit(f"prepare_world: loading the contract fixture failed: {loaded}")

    expect(edu(base, sig, {"sub_cmd": "req_record", "class_roomid": 3003}), "000 req_record", "error_code")
    expect(tic(base, "document/add", {"doc_url": "https://cos.example/lesson.pptx", "doc_name": "lesson",
                                      "is_transcode": True, "owner": "demo_teacher"}),
           "004 document/add", "error_code")
    expect(tic(base, "user/list", {"index": 0, "size": 1}), "004 user/list", "error_code")
    call(base, "POST", "/__admin/events",
         {"type": "iclass.class_begin", "sdkappid": app, "class_id": 100012347,
          "streams": [{"user_id": "demo_teacher", "video_type": 0}]})
    record_id = meeting(base, "openRecord", {"conferenceKey": "1866"})["recordId"]
    live_id = meeting(base, "openLive", {"conferenceKey": "1866"})["liveurl"].rsplit("/", 1)[1]
    advance(base, 60)
    meeting(base, "closeRecord", {"conferenceKey": "1866"})
    call(base, "POST", "/__admin/events", {"type": "iclass.class_over", "sdkappid": app, "class_id": 100012347})
    advance(base, 30)

    rows = meeting(base, "getRecords", {"recordId": record_id})
    if not rows:
        sys.exit(f"prepare_world: meeting recording {record_id} has no files")
    meeting_ids = [record_id, rows[0]["recordId"]]
    log(f"meeting recording {record_id} has {len(rows)} file(s); live {live_id} is on")

    call(base, "POST", "/__admin/callbacks/url", {"tenant": f"ilvb_edu:{EDU_SDKAPPID}", "url": DEAD_URL})
    advance(base, 0)
    callbacks = call(base, "GET", "/__admin/callbacks")["callbacks"]
    states = {}
    for c in callbacks:
        states.setdefault(f"{c['vendor']} {c['state']}", []).append(c["event"])
    if not any(c["vendor"] == "ilvb_edu" and c["state"] == "failed" for c in callbacks) or not any(
            c["vendor"] == "iclass" and c["event"] == "online_record_stop" for c in callbacks):
        sys.exit(f"prepare_world: unexpected callbacks: {states}")
    log(f"callbacks: {states}")

    text = pathlib.Path(template).read_text()
    text = (text.replace("@FILE_KEY@", key).replace("@FILE_NAME@", name).replace("@USERSIG@", sig)
            .replace("@CALLBACK_IDS@", ", ".join(json.dumps(c["id"]) for c in callbacks))
            .replace("@MEETING_RECORD_IDS@", ", ".join(json.dumps(i) for i in meeting_ids))
            .replace("@MEETING_LIVE_ID@", live_id))
    pathlib.Path(out).write_text(text)


if __name__ == "__main__":
    main()
