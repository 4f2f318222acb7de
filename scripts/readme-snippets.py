#!/usr/bin/env python3
"""The README's code is the example's: a fenced block right after a line
`<!-- from examples/minimal/PATH -->` must be lines of that file, in its order (an excerpt:
lines may be left out, none added or changed; indentation is not compared). `make lint`
runs it, so the README cannot drift from code that builds and signs in."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
readme = (root / "README.md").read_text().splitlines()
marker = re.compile(r"<!-- from (\S+) -->")
failures, checked = [], 0
i = 0
while i < len(readme):
    found = marker.fullmatch(readme[i].strip())
    i += 1
    if not found:
        continue
    source = root / found.group(1)
    if not source.is_file() or i >= len(readme) or not readme[i].startswith("```"):
        failures.append(f"README.md:{i}: no code block from an existing {found.group(1)}")
        continue
    start = i + 1
    i = start
    while i < len(readme) and not readme[i].startswith("```"):
        i += 1
    wanted = [line.strip() for line in readme[start:i] if line.strip()]
    have = [line.strip() for line in source.read_text().splitlines()]
    at = 0
    for line in wanted:
        try:
            at = have.index(line, at) + 1
        except ValueError:
            failures.append(
                f"README.md:{start + 1}: {line!r} is not in {found.group(1)} "
                "(after the block's previous lines)"
            )
            break
    checked += 1
if failures:
    sys.exit("\n".join(failures))
if checked == 0:
    sys.exit("README.md: no code block says which example file it is from")
print(f"README: {checked} code blocks are the example's code")
