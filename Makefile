# recmock — the commands a newcomer needs.
CARGO ?= cargo

.PHONY: run install test test-container test-install tools toolchain lint fmt bench soak soak-ci dist image openapi-json check-fixtures scenarios contract clean

# The version in Cargo.toml, which the image is tagged with
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IMAGE ?= recmock:$(VERSION)

# The tools the test suite needs (tests/tools/ensure.sh: installed when missing, else the run stops with
# the command to install them; a test never skips for want of a tool)
TEST_TOOLS = rust python ffmpeg chromium

## Start the server with the embedded demo world on http://127.0.0.1:8080
run: toolchain
	$(CARGO) run --locked --release --

## Install the `recmock` command (a release build) into ~/.cargo/bin, which rustup puts on the PATH
install: toolchain
	$(CARGO) install --path . --locked

## Run the whole test suite: unit, integration (over HTTP on ephemeral ports) and doc tests, after ensuring
## the tools it needs; benches run with `make bench` (the integration tests are one crate, tests/it/)
test: tools
	$(CARGO) test --locked -- --test-threads=4

## Install what `make test` needs when it is missing (the pinned Rust toolchain, the Python virtualenv)
tools:
	tests/tools/ensure.sh $(TEST_TOOLS)

# The toolchain rust-toolchain.toml pins, before any cargo command (never downloaded: see ensure.sh)
toolchain:
	@tests/tools/ensure.sh rust

## The tests that need a running Docker daemon (tests/container/: the image, the recipes of docs/ci.md,
## Testcontainers for Python and Node). Docker is ensured first and a missing Docker fails the run; the
## image is built (make image) and removed afterwards
test-container:
	tests/container/run.sh

## `cargo install` from a clean clone of the committed tree into a temporary root (~3 min on 2 cores)
test-install: toolchain
	tests/install/run.sh

## Formatting and lints, as CI checks them
lint: toolchain
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

fmt: toolchain
	$(CARGO) fmt

## Throughput, start-up, memory, list scale, callbacks and the event gateway (1,000 WebSockets) vs a bare
## baseline (release build; ~3 min after the build; not part of the test suite). Installs the load generator
## wrk (Debian package) when missing. `RECMOCK_BENCH_ONLY=gateway make bench` runs only the named phases.
## `make bench BENCH_PROFILE=dist` builds recmock and the baseline with the dist profile (fat LTO) instead.
BENCH_PROFILE ?= bench
bench: toolchain
	@[ -n "$(WRK)" ] || tests/tools/ensure.sh wrk
	$(CARGO) bench --locked --bench throughput --profile $(BENCH_PROFILE)

## Safe to leave running for days? A compressed day of mixed traffic (every vendor's flows with deletes,
## undeliverable callbacks, downloads, fault rules, resets, gateway WebSockets) against one recmock with its
## default flags for 10 minutes, RSS sampled every 10 s: PASS when nothing answered 5xx, nothing panicked and
## RSS grew < 5 % over the second half (benches/soak.rs; it takes both cores for the whole run).
## SOAK_SECONDS, SOAK_RESET_EVERY (0: never), SOAK_WORKERS, SOAK_SOCKETS, SOAK_RECMOCK_ARGS adjust it.
soak: toolchain
	$(CARGO) bench --locked --bench soak

## The soak's 60-second variant (CI): fails only on a 5xx, a panic, or RSS above SOAK_RSS_CAP_MB (512)
soak-ci: toolchain
	SOAK_SECONDS=$${SOAK_SECONDS:-60} SOAK_CI=1 $(CARGO) bench --locked --bench soak

## A release binary built with fat LTO and one codegen unit (the dist profile; ~4 min on 2 cores): target/dist/recmock
dist: toolchain
	$(CARGO) build --locked --profile dist

## The container image $(IMAGE) (amd64, FROM scratch, ~16 MB) from ./Dockerfile, without pulling anything:
## the dist binary and exactly the libraries it links, staged in target/image/ (scripts/image-context.sh)
image: dist
	@tests/tools/ensure.sh image
	scripts/image-context.sh target/dist/recmock target/image
	DOCKER_BUILDKIT=0 docker build --pull=false --build-arg VERSION=$(VERSION) -t $(IMAGE) -f Dockerfile target/image

## Regenerate openapi/recmock.json (served at /__admin/openapi.json) from openapi/recmock.yaml
openapi-json: toolchain
	RECMOCK_WRITE_OPENAPI_JSON=1 $(CARGO) test --locked --test it -- --exact openapi::the_json_is_the_yaml_converted

## Validate every fixture shipped in fixtures/
check-fixtures: toolchain
	$(CARGO) run --locked --quiet -- check fixtures/demo.json fixtures/scenarios/*.json

## Run every scenario in fixtures/scenarios/ (they also run in `make test`) and print each step
scenarios: toolchain
	$(CARGO) run --locked --quiet -- scenario run fixtures/scenarios/*.json

## Check openapi/recmock.yaml against the running server with schemathesis (tests/tools/ensure.sh python
## installs it into .venv-contract/ when missing)
contract:
	tests/contract/run.sh

clean:
	$(CARGO) clean
