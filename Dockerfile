# recmock as a container image: `make image` builds it as recmock:<version> (the version in Cargo.toml)
# without pulling anything. It starts FROM scratch: the context that scripts/image-context.sh stages in
# target/image/ holds the release binary (the dist profile), exactly the shared libraries it links, the CA
# certificates and an /etc/passwd with the non-root user `recmock` — no shell, no other program.
# amd64 (x86_64) only: the binary and its libraries are those of the machine that built it.
#
#   docker run --rm -p 127.0.0.1:8080:8080 recmock:0.1.0                       # the demo world
#   docker run --rm -p 127.0.0.1:8080:8080 -v "$PWD/fixtures:/fixtures:ro" \
#     -e RECMOCK_PUBLIC_URL=http://127.0.0.1:8080 recmock:0.1.0              # your fixtures
#
# docs/ci.md has the recipes (docker run, a receiver on the host, Testcontainers, GitHub Actions, GitLab CI).
FROM scratch

ARG VERSION=unknown
LABEL org.opencontainers.image.title="recmock" \
      org.opencontainers.image.description="A local emulator of five vendors' cloud-recording and live-classroom APIs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      dev.recmock.image="1"

COPY rootfs/ /
COPY recmock /usr/local/bin/recmock
COPY --chown=10001:10001 data/ /data/

# Inside the container recmock listens on every interface (its banner says so); every /fixtures/*.json is
# loaded in name order when the directory has any (mount yours there), else the demo world. A state file is
# written only when RECMOCK_STATE_FILE is set (e.g. /data/state.json); the local CA (--tls-port) is kept in
# /data/tls. Both survive in the /data volume.
ENV RECMOCK_BIND=0.0.0.0 \
    RECMOCK_PORT=8080 \
    RECMOCK_FIXTURE_DIR=/fixtures \
    RECMOCK_TLS_DIR=/data/tls \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HOME=/data

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

# The binary checks itself: `recmock wait` asks GET /__admin/health (no admin token needed; no curl here).
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/recmock", "wait", "--timeout", "2"]

ENTRYPOINT ["/usr/local/bin/recmock"]
