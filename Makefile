# The two commands of the README. Each installs what it needs first (see scripts/setup.sh).
.PHONY: dev test lint unit build e2e release release-e2e fuzz bench msrv

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
	# The crate's imports point down only (auth-tests/tests/layers.rs): no circle between its modules.
	cargo test --workspace --features ssr --test layers
	cargo clippy --workspace --all-targets --features ssr -- -D warnings
	cargo clippy -p leptos-login -p app -p wasm-with-login --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings
	# examples/minimal, an app of its own (its own workspace), is what the start template makes.
	cd examples/minimal && cargo fmt --check \
		&& cargo clippy --features ssr -- -D warnings \
		&& cargo clippy --target wasm32-unknown-unknown --features hydrate -- -D warnings
	scripts/template.sh check
	scripts/readme-snippets.py
	RUSTDOCFLAGS="-D warnings" cargo doc -p leptos-login --no-deps --features ssr
	# What crates.io would get builds on its own: metadata, no path-only dependency, no pin.
	cargo package -p leptos-login --allow-dirty

unit:
	AUTH_TEST_REDIS=required AUTH_TEST_POSTGRES=required cargo test --workspace --features ssr

# The reference app; examples/minimal, on its own; a new app made from the start template
# (debug only, all three).
build:
	cargo leptos build
	cd examples/minimal && cargo leptos build
	scripts/template.sh build

# The build to deploy: target/release/server and target/site, with hashed file names (cached
# for good) and brotli and gzip copies of every asset (server/src/assets.rs).
# cargo-leptos's gzip (libflate) comes out an eighth larger than `gzip -9`, which rewrites them.
RELEASE_BUILD = LEPTOS_HASH_FILES=true cargo leptos build --release --precompress --project leptos-auth \
	&& for gz in target/site/pkg/*.gz; do gzip -9 -n -c "$${gz%.gz}" > "$$gz"; done
release:
	$(RELEASE_BUILD)

e2e:
	cd end2end && npx playwright test

# The release build (wasm-opt and all) hydrates and signs in too, also behind nginx, and two
# servers share sessions through Redis behind nginx as a load balancer, and two more through
# Postgres (tests/sessions.spec.ts).
release-e2e:
	$(RELEASE_BUILD)
	cd end2end && SERVER_PROFILE=release npx playwright test tests/hydration.spec.ts tests/signin.spec.ts tests/assets.spec.ts tests/proxy.spec.ts tests/sessions.spec.ts

# The property tests of auth-tests/tests/fuzz.rs with many more cases (README, "Fuzzing"); not in `test`.
FUZZ_CASES ?= 100000
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) cargo test -p leptos-login-tests --test fuzz --release

# One table (README, "Measured"): throughput (wrk), the identity cookie's CPU (divan), sign-in
# timings (also with the provider 40 ms away, behind end2end/bench/delay-proxy.mjs), memory by
# session mode, wasm and page sizes on a release build (end2end/bench/, bench/wasm-sizes.sh);
# not in `test`.
bench:
	scripts/setup.sh bench
	$(RELEASE_BUILD)
	mkdir -p target/bench
	cargo bench -p leptos-login-tests --bench identity > target/bench/identity.log
	scripts/identity-median.sh target/bench/identity.log > target/bench/identity.txt
	bench/wasm-sizes.sh
	cargo build --release -p leptos-login-tests --example mint_sessions
	bench/instructions.sh
	cd end2end && SERVER_PROFILE=release npx playwright test -c bench.config.ts

# leptos-login, as crates.io would ship it, checked with the oldest Rust it claims
# (rust-version), alone and in the oldest app it claims to fit; not in `test`: about 15
# minutes the first time, under a minute after (README, "Your own app").
msrv:
	scripts/msrv.sh
