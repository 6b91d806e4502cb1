# recmock — the commands a newcomer needs.
CARGO ?= cargo

.PHONY: run test lint fmt bench dist openapi-json check-fixtures scenarios contract clean

## Start the server with the embedded demo world on http://127.0.0.1:8080
run:
	$(CARGO) run --release --

## Run the whole test suite (unit + integration, over HTTP on ephemeral ports); benches run with `make bench`
## (the integration tests are one crate, tests/it/: one module per file)
test:
	$(CARGO) test --lib --bins --tests -- --test-threads=4

## Formatting and lints, as CI checks them
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

## Throughput, start-up, memory, list scale, callbacks and the event gateway (1,000 WebSockets) vs a bare
## baseline (release build; ~3 min after the build; not part of the test suite). Installs the load generator
## wrk (Debian package) when missing. `RECMOCK_BENCH_ONLY=gateway make bench` runs only the named phases.
## `make bench BENCH_PROFILE=dist` builds recmock and the baseline with the dist profile (fat LTO) instead.
BENCH_PROFILE ?= bench
bench:
	@command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk || \
		{ echo "make bench needs wrk (https://github.com/wg/wrk): install it, or set WRK=/path/to/wrk"; exit 1; }
	$(CARGO) bench --bench throughput --profile $(BENCH_PROFILE)

## A release binary built with fat LTO and one codegen unit (the dist profile; ~4 min on 2 cores): target/dist/recmock
dist:
	$(CARGO) build --profile dist

## Regenerate openapi/recmock.json (served at /__admin/openapi.json) from openapi/recmock.yaml
openapi-json:
	RECMOCK_WRITE_OPENAPI_JSON=1 $(CARGO) test --test it -- --exact openapi::the_json_is_the_yaml_converted

## Validate every fixture shipped in fixtures/
check-fixtures:
	$(CARGO) run --quiet -- check fixtures/demo.json fixtures/scenarios/*.json

## Run every scenario in fixtures/scenarios/ (they also run in `make test`) and print each step
scenarios:
	$(CARGO) run --quiet -- scenario run fixtures/scenarios/*.json

## Check openapi/recmock.yaml against the running server with schemathesis (installs it into .venv-contract/)
contract:
	tests/contract/run.sh

clean:
	$(CARGO) clean
