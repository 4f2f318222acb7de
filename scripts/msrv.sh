#!/usr/bin/env bash
# Checks that leptos-login builds with the oldest compiler it claims (`rust-version` in
# auth/Cargo.toml), or with the version given (`scripts/msrv.sh 1.88`, to look for a lower one),
# and inside the oldest app it claims to fit: a start-axum app of 2025 that pins
# wasm-bindgen =0.2.100 (and so gets leptos 0.8.14).
#
# What is checked is the package as crates.io would ship it (`cargo package`), outside this
# workspace: its pinned toolchain, Cargo.lock and [patch] would otherwise hide what an app
# meets. Each check gets a lockfile of its own, resolved as cargo resolves for an app on that
# compiler: the newest versions whose rust-version it accepts.
# Output: target/msrv (its own target directory, so the workspace's builds stay as they were).
set -euo pipefail
cd "$(dirname "$0")/.."
claimed=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' auth/Cargo.toml)
version=${1:-$claimed}
out=$PWD/target/msrv
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

say "Rust $version (rustup installs it and its wasm32 target if missing)"
rustup toolchain install "$version" --profile minimal --target wasm32-unknown-unknown --no-self-update >/dev/null

say "packaging leptos-login as for crates.io"
cargo package -p leptos-login --allow-dirty --no-verify --target-dir "$out" --quiet
crate=$(ls -t "$out"/package/leptos-login-*.crate | head -n 1)
# Outside the repository: inside it, cargo would take the package for a stray workspace member.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$crate" -C "$work"
package=$(echo "$work"/leptos-login-*)
cd "$package"
# `cargo package` writes the workspace's requirements into the package: an exact one there
# (the workspace pins wasm-bindgen for its CLI) would bind every app.
if grep -n '^version = "=' Cargo.toml; then
  echo "the package pins the dependencies above: an app would have to copy the pin" >&2
  exit 1
fi
rm -f Cargo.lock
# The resolver reads the package's rust-version: make it the version being tried.
sed -i "s/^rust-version = .*/rust-version = \"$version\"/" Cargo.toml

export CARGO_TARGET_DIR=$out/target
# $1: what is checked; $2, $3: the server's features and the browser's.
check() {
  say "$1: resolving dependencies for Rust $version"
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo "+$version" generate-lockfile --quiet
  cp Cargo.lock "$out/$1.lock"
  say "$1: server side"
  cargo "+$version" check --locked --features "$2"
  say "$1: browser side (wasm32)"
  cargo "+$version" check --locked --target wasm32-unknown-unknown --no-default-features --features "$3"
}
check leptos-login ssr,sqlite,redis,postgres,dev-idp,conformance hydrate

# The template's dependencies as of leptos 0.8 (May 2025), with the pin it had then.
mkdir -p "$work/oldest-app/src"
cd "$work/oldest-app"
touch src/lib.rs
cat >Cargo.toml <<TOML
[package]
name = "oldest-app"
version = "0.1.0"
edition = "2021"
rust-version = "$version"

[dependencies]
leptos-login = { path = "$package" }
leptos = "0.8.0"
leptos_router = "0.8.0"
leptos_axum = { version = "0.8.0", optional = true }
axum = { version = "0.8.0", optional = true }
wasm-bindgen = "=0.2.100"

[features]
hydrate = ["leptos/hydrate", "leptos-login/hydrate"]
ssr = ["leptos/ssr", "leptos_router/ssr", "dep:leptos_axum", "dep:axum", "leptos-login/ssr", "leptos-login/dev-idp"]

[workspace]
TOML
check oldest-app ssr hydrate
say "leptos-login builds with Rust $version, alone and in the oldest app (lockfiles: target/msrv/*.lock)"
