"""Prints hdrpatch vs PyTorch step and forward times side by side from both `--json` outputs (stdin: two lines
of JSON, hdrpatch's first). Ratio = PyTorch time / hdrpatch time: above 1 means hdrpatch is faster."""
import json
import sys

ours, theirs = (json.loads(line) for line in sys.stdin.read().strip().split("\n")[-2:])
index = {(r["name"], r["threads"]): r["median_ms"] for r in theirs["rows"]}
print(f"{'measure':34s} {'threads':>7s} {'hdrpatch ms':>12s} {'torch ms':>10s} {'ratio':>7s}")
for r in ours["rows"]:
    other = index.get((r["name"], r["threads"]))
    if other is None:
        continue
    print(f"{r['name']:34s} {r['threads']:7d} {r['median_ms']:12.1f} {other:10.1f} {other / r['median_ms']:7.2f}x")
