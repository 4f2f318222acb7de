#!/usr/bin/env bash
# What the request path costs in CPU instructions, counted by callgrind: the home page on a
# server without `auth.install`, the same page signed out and signed in with it (100 requests
# each, after 20 to warm up, release build). Unlike wrk's requests per second, the count does
# not move with other load on the machine, so it can tell 0.95 from 0.93 on a 2-core VM.
# `make bench` runs it after the release build (target/release/server, target/site) and the
# session minter; it prints a table row per line, to target/bench/instructions.txt as well.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench/instructions.txt
mkdir -p target/bench
server=target/release/server
minter=target/release/examples/mint_sessions
for needed in "$server" "$minter"; do
  [ -x "$needed" ] || { echo "missing $needed: run make bench (or make release first)" >&2; exit 1; }
done
secrets=end2end/secrets.e2e.toml
secret=$(sed -n 's/^cookie_secret = "\(.*\)"$/\1/p' "$secrets")
issuer=$(sed -n 's|^server_metadata_url = "\(.*\)/.well-known/openid-configuration"$|\1|p' "$secrets")
cookie=$("$minter" cookie "$secret" "$issuer" 1 | head -n 1)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# $1: a name; $2…: extra environment. Prints the instructions per request signed out, then
# signed in, for the server started so.
count() {
  local name=$1 port dir pid
  shift
  port=$(free_port)
  dir=$(mktemp -d)
  (cd end2end && exec env "$@" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=../target/site \
    LEPTOS_OUTPUT_NAME=leptos-auth AUTH_SECRETS_FILE=secrets.e2e.toml \
    AUTH_REDIRECT_URI="http://127.0.0.1:$port/oauth2callback" \
    valgrind --tool=callgrind --callgrind-out-file="$dir/$name.%p" "../$server" >"$dir/log" 2>&1) &
  pid=$!
  for _ in $(seq 120); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.5; done
  for _ in $(seq 20); do
    curl -s -o /dev/null "http://127.0.0.1:$port/"
    curl -s -o /dev/null -H "Cookie: $cookie" "http://127.0.0.1:$port/"
  done
  local totals=()
  for header in "" "Cookie: $cookie"; do
    callgrind_control -z "$pid" >/dev/null 2>&1
    for _ in $(seq 100); do curl -s -o /dev/null ${header:+-H "$header"} "http://127.0.0.1:$port/"; done
    callgrind_control -d "$name" "$pid" >/dev/null 2>&1
    sleep 1
    local dump
    dump=$(ls -t "$dir/$name".* | head -n 1)
    totals+=("$(awk '/^totals:/ { print int($2 / 100); exit }' "$dump")")
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  echo "${totals[@]}"
}

read -r without _ < <(count without BENCH_WITHOUT_AUTH=1)
read -r signed_out signed_in < <(count with)
node - "$without" "$signed_out" "$signed_in" <<'JS' | tee "$out"
const [without, out, inside] = process.argv.slice(2).map(Number);
const k = (n) => `${(n / 1000).toFixed(1)}k`;
console.log(`| instructions per request (callgrind, 100 requests, release build): without \`auth.install\` / signed out / signed in | ${k(without)} / ${k(out)} / ${k(inside)}: with it ${(without / out).toFixed(3)} of without (target 0.95); signed in ${(out / inside).toFixed(3)} of signed out (target 0.90) |`);
JS
