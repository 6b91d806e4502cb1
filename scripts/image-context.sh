#!/usr/bin/env bash
# Stage the build context of the container image (`make image`; the Dockerfile at the repository's root
# says what the image does with it):
#
#   recmock                 the binary (the dist build: target/dist/recmock)
#   rootfs/                 copied to / as it is: exactly the shared libraries `ldd` lists for the binary, at
#                           the paths it lists them (the loader at the path the binary names), the CA
#                           certificates (/etc/ssl/certs/ca-certificates.crt, for callbacks to HTTPS
#                           receivers), /etc/passwd and /etc/group with the non-root user `recmock` (uid and
#                           gid 10001), and /etc/nsswitch.conf (host names from /etc/hosts first, so
#                           `--add-host host.docker.internal:host-gateway` needs no DNS)
#   data/                   empty: /data, owned by the user (state file, the local CA)
#
#   scripts/image-context.sh BINARY DIR
#
# Only what the binary links is copied, so the image holds no shell and no other program. The libraries
# are this machine's (Debian's glibc): the image is for the architecture it was built on, amd64 here.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BINARY DIR" >&2; exit 2; }
bin=$1
ctx=$2
[ -x "$bin" ] || { echo "image-context: no binary at $bin (make dist builds it)" >&2; exit 1; }
certs=/etc/ssl/certs/ca-certificates.crt
[ -s "$certs" ] || { echo "image-context: no $certs (Debian: apt-get install ca-certificates)" >&2; exit 1; }
command -v ldd >/dev/null || { echo "image-context: no ldd (Debian: apt-get install libc-bin)" >&2; exit 1; }

rm -rf "$ctx"
mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/data"
cp "$bin" "$ctx/recmock"
strip "$ctx/recmock" 2>/dev/null || true

# `ldd` prints `name => /path (0x…)` for each library and `/path (0x…)` for the loader; linux-vdso has no
# file. Each is copied with its links resolved, at the path printed (the loader's is the one in the binary).
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || { echo "image-context: ldd lists no library for $bin (a static binary needs none)" >&2; }
for lib in $libs; do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
done

cp -L "$certs" "$ctx/rootfs$certs"
cat >"$ctx/rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
recmock:x:10001:10001:recmock:/data:/sbin/nologin
PASSWD
cat >"$ctx/rootfs/etc/group" <<'GROUP'
root:x:0:
recmock:x:10001:
GROUP
cat >"$ctx/rootfs/etc/nsswitch.conf" <<'NSS'
hosts: files dns
NSS
echo "image-context: $ctx: $(du -sh "$ctx" | cut -f1) — recmock, $(echo "$libs" | wc -w) libraries ($(echo $libs)), CA certificates, passwd"
