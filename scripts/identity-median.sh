#!/usr/bin/env bash
# The medians from divan's table (auth-tests/benches/identity.rs) on one line, for `make bench`:
# "open_identity 1.9 µs, from_cookie_header 2.1 µs, use_user_by_mode/cookie 3.1 µs, …".
set -euo pipefail
awk -F'│' '
  /(├|╰)─ / {
    name = $1; nested = (name ~ /^ +(├|╰)/); sub(/^[^a-z_]*/, "", name); split(name, words, " ")
    median = $3; gsub(/^ +| +$/, "", median)
    if (median == "") { group = words[1]; next }
    label = nested ? group "/" words[1] : words[1]
    line = line (line == "" ? "" : ", ") label " " median
  }
  END { if (line == "") exit 1; print line }
' "$1"
