"""hdrpatch's restore rows against onnxruntime's from both `--json` outputs (stdin: pairs of JSON objects, one per
line, hdrpatch's first in each pair). Ratio = hdrpatch Mpx/s / onnxruntime Mpx/s at the same thread count: above 1,
hdrpatch is faster. Each of hdrpatch's rows (one pass, tiled) is set against onnxruntime's one pass of the whole
image."""
import json
import sys

lines = [json.loads(l) for l in sys.stdin.read().strip().split("\n") if l.strip()]
if len(lines) < 2 or len(lines) % 2:
    sys.exit(f"compare_bench: expected pairs of JSON lines (hdrpatch's, onnxruntime's), got {len(lines)} line(s)")
print(f"{'measure':22s} {'image':>11s} {'threads':>7s} {'hdrpatch Mpx/s':>15s} {'onnxruntime Mpx/s':>18s} {'ratio':>7s}")
for ours, theirs in zip(lines[0::2], lines[1::2]):
    index = {r["threads"]: r["per_second"] for r in theirs["rows"]}
    for r in ours["rows"]:
        other = index.get(r["threads"])
        if other is None:
            continue
        print(f"{r['name']:22s} {theirs.get('image', ''):>11s} {r['threads']:7d} {r['per_second']:15.2f} "
              f"{other:18.2f} {r['per_second'] / other:7.2f}x")
print(f"({lines[1].get('runtime', 'onnxruntime')}, one (1, 3, H, W) run per image)")
