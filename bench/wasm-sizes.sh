#!/usr/bin/env bash
# What sign-in adds to an app's wasm: bench/wasm-with-login against bench/wasm-baseline (the
# same app without the sign-in crate), each built as a cargo-leptos release build is (the
# wasm-release profile, wasm-bindgen, wasm-opt -Oz) and compressed as `--precompress` does
# (gzip, brotli quality 11). Prints a table row per module and the difference, to
# target/bench/wasm.txt as well; `make bench` runs it before the site bench, which reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench/wasm
mkdir -p "$out"
cargo build --quiet --lib --target wasm32-unknown-unknown --profile wasm-release \
  --no-default-features --features hydrate -p wasm-with-login -p wasm-baseline
for crate in wasm_with_login wasm_baseline; do
  wasm-bindgen --target web --no-typescript --out-dir "$out/$crate" \
    "target/wasm32-unknown-unknown/wasm-release/$crate.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/$crate/${crate}_bg.wasm" -o "$out/$crate/${crate}_bg.wasm"
done
node - "$out/wasm_with_login/wasm_with_login_bg.wasm" "$out/wasm_baseline/wasm_baseline_bg.wasm" <<'JS' | tee target/bench/wasm.txt
const { readFileSync } = require('node:fs');
const zlib = require('node:zlib');
const sizes = (path) => {
  const raw = readFileSync(path);
  const brotli = zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
  return [raw.length, zlib.gzipSync(raw, { level: 9 }).length, brotli.length];
};
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const row = (numbers) => numbers.map(kb).join(' / ');
const [withAuth, without] = [sizes(process.argv[2]), sizes(process.argv[3])];
console.log(`| one page with sign-in (bench/wasm-with-login) wasm: raw / gzip / brotli | ${row(withAuth)} |`);
console.log(`| the same app without auth (bench/wasm-baseline) | ${row(without)} |`);
console.log(`| what sign-in adds to an app's wasm | ${row(withAuth.map((n, i) => n - without[i]))} |`);
JS
