#!/usr/bin/env bash
# Installs what `make dev` (setup.sh dev), `make test` (setup.sh test) or `make bench`
# (setup.sh bench: test's, wrk and Streamlit) needs, skipping whatever is already there.
# Everything comes from a package registry, never a download of its own: Rust tools from the
# crate registry, the browser, nginx, Redis, Postgres and wrk from Debian, JavaScript packages
# from npm, Streamlit (bench only) from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-dev}
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.11
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

debian_install() {
  # $1: the packages, space-separated; $2: what they are for. One update, one install.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's $1 ($2)"
    apt-get update -qq
    # shellcheck disable=SC2086 # $1 is a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $1 >/dev/null
  else
    echo "Please install $1 ($2), e.g. 'sudo apt-get install $1', then run this again." >&2
    exit 1
  fi
}

# The toolchain and wasm32 target pinned in rust-toolchain.toml (rustup installs on first use).
if ! command -v rustup >/dev/null; then
  echo "rustup is missing: install Rust from your distribution or with rustup first." >&2
  exit 1
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
rustc --print target-list >/dev/null
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# A C compiler and linker: every Rust build links with one.
if ! command -v cc >/dev/null; then
  debian_install build-essential "a C compiler and linker, for Rust builds"
fi

# wasm-opt, for release builds (`cargo leptos build --release`); cargo-leptos would download
# it. From npm's binaryen (tools/package.json): Debian's binaryen 108 predates the reference
# types Rust's wasm32 target emits and writes a module that cannot hydrate. The Makefile puts
# tools/node_modules/.bin first on PATH.
npm_ci() {
  # $1: the folder; npm ci only when its lockfile changed since the last install.
  if [ ! -f "$1/node_modules/.package-lock.json" ] ||
     [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    say "installing the npm packages of $1/"
    (cd "$1" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# What the tests meet that is not Rust: the browser, the reverse proxy, the shared session
# store (Debian), and Playwright with the test provider (npm). Mostly downloads, so they run
# beside the Rust tools' builds below, which keep the CPU busy.
others() {
  if [ "$what" = test ] || [ "$what" = bench ]; then
    missing=""
    [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing="$missing chromium"
    [ -x "${NGINX:-/usr/sbin/nginx}" ] || missing="$missing nginx"
    [ -x "${REDIS_SERVER:-/usr/bin/redis-server}" ] || missing="$missing redis-server"
    # The TLS tests (Redis, Postgres) make their authority and certificates with it.
    command -v openssl >/dev/null || missing="$missing openssl"
    # The tests find Postgres's programs in the newest /usr/lib/postgresql/*/bin (or in
    # POSTGRES_BIN_DIR), where Debian puts them.
    if [ -n "${POSTGRES_BIN_DIR:-}" ]; then
      [ -x "$POSTGRES_BIN_DIR/postgres" ] || missing="$missing postgresql"
    else
      compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing="$missing postgresql"
    fi
    command -v npm >/dev/null || missing="$missing npm"
    if [ -n "$missing" ]; then
      debian_install "${missing# }" "what the end-to-end tests drive: the browser, the reverse proxy in front of the app, the session stores two servers share, Node.js for Playwright and the test OpenID provider"
    fi
    case "$missing" in *nginx*)
      # The package starts a system-wide nginx on port 80; the tests run their own.
      (service nginx stop || true) >/dev/null 2>&1 ;;
    esac
    case "$missing" in *redis-server*)
      # The package starts a system-wide Redis on port 6379 and enables it at boot; the tests
      # run their own, in the foreground, on a free loopback port, and keep nothing on disk.
      (service redis-server stop || true) >/dev/null 2>&1
      if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        (systemctl disable redis-server || true) >/dev/null 2>&1
      else
        (update-rc.d redis-server disable || true) >/dev/null 2>&1
      fi ;;
    esac
    case "$missing" in *postgresql*)
      # Likewise a system-wide cluster on port 5432: the tests run their own (initdb into a
      # temporary folder, as the postgres user when run as root).
      (service postgresql stop || true) >/dev/null 2>&1
      if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        (systemctl disable postgresql || true) >/dev/null 2>&1
      else
        (update-rc.d postgresql disable || true) >/dev/null 2>&1
      fi ;;
    esac
    node_major=$(node --version 2>/dev/null | sed 's/^v\([0-9]*\).*/\1/')
    if [ "${node_major:-0}" -lt 20 ]; then
      echo "Playwright needs Node.js 20 or newer; this is $(node --version 2>/dev/null || echo none)." >&2
      exit 1
    fi
    npm_ci tools
    npm_ci end2end
  elif command -v npm >/dev/null; then
    npm_ci tools
  else
    echo "note: without npm there is no wasm-opt, which only release builds need." >&2
  fi
}
others &
others_pid=$!

# cargo-leptos, at the version this workspace's settings are written for, and wasm-bindgen's
# CLI, which must match the wasm-bindgen crate in Cargo.lock exactly (cargo-leptos would
# download either otherwise). Both builds are long chains of crates one after another, so
# they run side by side: together they keep two cores busy where each alone keeps one.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
tools=()
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 6 minutes, once)"
  # no_downloads: a tool missing from PATH is an error naming it, never a download.
  # An unoptimised build: it orchestrates cargo, wasm-bindgen and wasm-opt, which do the
  # work, so optimising it costs minutes of building (13 against 6 on two cores) and saves
  # seconds (a release build of this app takes 29 s with it against 22).
  CARGO_PROFILE_DEV_DEBUG=0 \
    cargo install --debug --locked --features no_downloads "cargo-leptos@$CARGO_LEPTOS_VERSION" &
  tools+=($!)
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wasm_bindgen_version" ]; then
  say "installing wasm-bindgen-cli $wasm_bindgen_version (about 3 minutes, once)"
  # Not --locked: its lockfile names a webpki-roots release the registry no longer serves.
  # Optimised: it rewrites every wasm the builds make, the debug ones tens of MB.
  cargo install --force wasm-bindgen-cli --version "$wasm_bindgen_version" &
  tools+=($!)
fi
for tool in "${tools[@]}"; do wait "$tool"; done

wait "$others_pid"

# `make bench`: wrk, the HTTP load generator (loopback only), and valgrind, whose callgrind
# counts the instructions of a request (bench/instructions.sh), from Debian.
if [ "$what" = bench ] && ! command -v wrk >/dev/null; then
  debian_install wrk "the HTTP load generator make bench runs"
fi
if [ "$what" = bench ] && ! command -v callgrind_control >/dev/null; then
  debian_install valgrind "callgrind, which counts the instructions of a request for make bench"
fi

# `make bench` measures sign-in against Streamlit 1.67's (with its `auth` extra) on the same
# provider: from PyPI, into a virtual environment under target/.
streamlit_venv=target/bench/streamlit-venv
if [ "$what" = bench ] && [ ! -x "$streamlit_venv/bin/streamlit" ]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    debian_install python3-venv "Python virtual environments, for make bench's Streamlit"
  fi
  say "installing Streamlit 1.67 for make bench's comparison (PyPI, about a minute, once)"
  python3 -m venv "$streamlit_venv"
  "$streamlit_venv/bin/pip" install --quiet "streamlit[auth]==1.67.0"
fi
