#!/usr/bin/env bash
# The start template (templates/start-axum-login), as a stranger uses it:
#   scripts/template.sh check   examples/minimal is exactly what the template makes under the
#                               name "minimal" (less this repository's .cargo/config.toml, the
#                               lockfile and build output); make lint runs it
#   scripts/template.sh build   makes a new app from it, moved to target/template/minimal (which
#                               the repository's workspace excludes), with
#                               examples/minimal's lockfile (today's versions, not the
#                               registry's newest) and the checkout's leptos-login, and builds
#                               it; make build runs it, and Playwright signs in to it
# The name is the example's so that the new app shares its compiled dependencies: cargo-leptos
# compiles the app's name into Leptos (LEPTOS_OUTPUT_NAME), and another name would build
# Leptos and all above it again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

generate() {
  # $1: the folder to make the app in. Made outside this repository, as a stranger's is:
  # cargo-generate adds a new app made inside a workspace to that workspace's members.
  local fresh
  fresh=$(mktemp -d)
  (cd "$fresh" && cargo leptos new --path "$root/templates/start-axum-login" --name minimal >/dev/null)
  rm -rf "$1/minimal"
  mkdir -p "$1"
  mv "$fresh/minimal" "$1/minimal"
  rmdir "$fresh"
}

case "${1:-}" in
  check)
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    generate "$out"
    if ! diff -r --exclude=.git --exclude=.cargo --exclude=Cargo.lock --exclude=target \
      "$out/minimal" examples/minimal; then
      echo "examples/minimal is not what templates/start-axum-login makes: change both alike." >&2
      exit 1
    fi
    ;;
  build)
    generate target/template
    app=target/template/minimal
    cp examples/minimal/Cargo.lock "$app/"
    # Another version, so that cargo keeps this app's build apart from the example's in the
    # shared target/ (same name, same relative paths: else each passes for the other's).
    sed -i 's/^version = "0.1.0"$/version = "0.0.1"/' "$app/Cargo.toml"
    mkdir -p "$app/.cargo"
    cat > "$app/.cargo/config.toml" <<TOML
[patch.crates-io]
leptos-login = { path = "$root/auth" }

[build]
target-dir = "$root/target"
TOML
    # examples/minimal's server has the same name: keep it apart before this one's replaces it.
    if [ -x target/debug/minimal ]; then cp target/debug/minimal target/debug/minimal-example; fi
    (cd "$app" && cargo leptos build)
    ;;
  *)
    echo "usage: scripts/template.sh check|build" >&2
    exit 2
    ;;
esac
