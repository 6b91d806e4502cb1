"""The HST console's login flow from Python `requests`, over HTTPS, against recmock under the vendor's own
host names — the client code is what it would be against the real vendor; only trust and name resolution
change.

    recmock tls init                                   # once: makes ~/.recmock/tls/ca.pem
    recmock --tls-port 8443 &
    REQUESTS_CA_BUNDLE=~/.recmock/tls/ca.pem RECMOCK_TLS_PORT=8443 python3 docs/examples/python_requests.py

With the host names in /etc/hosts (127.0.0.1 access.paas.hst.com ...) and recmock on port 443, leave
RECMOCK_TLS_PORT unset: nothing in this file is then recmock-specific. With RECMOCK_TLS_PORT set, the
vendor host names are resolved to 127.0.0.1 on that port inside this process instead (what a hosts file
plus a port forward would do), so the URLs below stay the vendor's, port 443 included.
"""

import os
import socket
import sys

import requests

APP_ID = os.environ.get("HST_APP_ID", "demo_app_0001")
APP_SECRET = os.environ.get("HST_APP_SECRET", "0123456789abcdef")

TOKEN_SERVICE = "https://paas-token-gen.haoshitong.com"
ACCESS_SERVICE = "https://access.paas.hst.com"

port = os.environ.get("RECMOCK_TLS_PORT")
if port:
    _real = socket.getaddrinfo

    def _to_recmock(host, p, *args, **kwargs):
        if host.endswith((".hst.com", ".haoshitong.com")):
            return _real("127.0.0.1", int(port), *args, **kwargs)
        return _real(host, p, *args, **kwargs)

    socket.getaddrinfo = _to_recmock


def call(method, url, **kwargs):
    r = requests.request(method, url, timeout=10, **kwargs)
    r.raise_for_status()
    body = r.json()
    if body.get("code") not in (0, "0"):
        sys.exit(f"{method} {url}: {body}")
    return body


# 1. The token service turns the app id and secret into a developer token (a TokenGenerator token).
dev_token = call("POST", f"{TOKEN_SERVICE}/generate/token", json={"appId": APP_ID, "appSecret": APP_SECRET})["result"]
# 2. The access service names the business gateway and the event gateway.
gateway = call("GET", f"{ACCESS_SERVICE}/server/address", params={"appType": 10})["result"]
events = call("GET", f"{ACCESS_SERVICE}/server/address", params={"appType": 8})["result"]
# 3. The gateway exchanges the developer token for an access token, which authorizes the record API. As the
#    console does: no query, `Authorization: <appId>.<token>` (the app id in the developer id's place).
access = call("GET", f"{gateway}/access/token", headers={"Authorization": f"{APP_ID}.{dev_token}"})["result"]["access_token"]
tasks = call("GET", f"{gateway}/v1/record/task/list", params={"app_id": APP_ID}, headers={"Authorization": access})

print(f"gateway {gateway}")
print(f"event gateway {events}")
print(f"access_token {access}")
print(f"tasks {tasks['total_num']}")
