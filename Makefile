# The two commands of the README. Each installs what it needs first (see scripts/setup.sh).
.PHONY: dev test lint unit build e2e release-e2e fuzz bench

# wasm-opt from tools/ (npm's binaryen) first, then what `cargo install` put in ~/.cargo/bin.
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

# Run the reference app with live reload on http://127.0.0.1:3000.
dev:
	scripts/setup.sh dev
	cargo leptos watch --project leptos-auth

# Every check and test: formatting, lints (server and browser), Rust tests, Playwright.
test:
	scripts/setup.sh test
	$(MAKE) --no-print-directory lint unit build e2e release-e2e

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --features ssr -- -D warnings
	cargo clippy -p auth -p app -p minimal --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

unit:
	cargo test --workspace --features ssr

# Both projects of Cargo.toml: the reference app and examples/minimal (debug only).
build:
	cargo leptos build

e2e:
	cd end2end && npx playwright test

# The release build (wasm-opt and all) hydrates and signs in too, also behind nginx.
release-e2e:
	cargo leptos build --release --project leptos-auth
	cd end2end && SERVER_PROFILE=release npx playwright test tests/hydration.spec.ts tests/signin.spec.ts tests/proxy.spec.ts

# The property tests of auth/tests/fuzz.rs with many more cases (README, "Fuzzing"); not in `test`.
FUZZ_CASES ?= 100000
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) cargo test -p auth --features ssr --test fuzz --release

# Sign-in timings, memory and cookie size on a release build (end2end/bench/); not in `test`.
bench:
	scripts/setup.sh test
	cargo leptos build --release --project leptos-auth
	cd end2end && SERVER_PROFILE=release npx playwright test -c bench.config.ts
