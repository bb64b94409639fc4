"""The U-Net's training step and forward beside PyTorch eager, at the shapes of issue-level claims: width 16 and 32,
levels 2 and 3, batch 16 x 64x64 and batch 4 x 128x128, 1 and 2 threads. Each shape runs `--runs` times,
hdrpatch and PyTorch alternating (hdrpatch bench --json, then bench/torch_reference.py --json); the table gives the
median over runs of each side's median time and their ratio (PyTorch / hdrpatch: above 1 means hdrpatch is faster).
Never run by CI (needs torch):
    /path/to/python-with-torch bench/unet_side_by_side.py --hdrpatch .build/release/hdrpatch --runs 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = [(16, 2, 16, 64), (16, 3, 16, 64), (32, 2, 16, 64), (32, 3, 16, 64),
          (16, 2, 4, 128), (16, 3, 4, 128), (32, 2, 4, 128), (32, 3, 4, 128)]


def rows(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    text = out[out.index("{"):]  # hdrpatch prints indented JSON over several lines, torch_reference one line
    return {(r["name"].split(" ")[0], r["threads"]): r["median_ms"] for r in json.loads(text)["rows"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hdrpatch", default=".build/release/hdrpatch")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--shapes", type=int, default=len(SHAPES), help="only the first N shapes")
    a = ap.parse_args()
    threads = [str(t) for t in a.threads]
    print(f"{'network':10s} {'batch':>12s} {'what':>8s} {'thr':>3s} {'hdrpatch ms':>12s} {'torch ms':>9s} {'ratio':>6s}")
    for width, levels, batch, patch in SHAPES[: a.shapes]:
        shape = ["--arch", "unet", "--width", str(width), "--levels", str(levels), "--batch", str(batch),
                 "--patch", str(patch), "--threads", *threads, "--json"]
        ours, theirs = [], []
        for _ in range(a.runs):
            ours.append(rows([a.hdrpatch, "bench", "--what", "step", *shape]))
            theirs.append(rows([sys.executable, os.path.join(HERE, "torch_reference.py"), *shape]))
        for what in ("step", "forward"):
            for t in a.threads:
                o = statistics.median(r[(what, t)] for r in ours)
                p = statistics.median(r[(what, t)] for r in theirs)
                print(f"unet w{width} l{levels} {batch:3d} x {patch}x{patch} {what:>8s} {t:3d} {o:12.1f} {p:9.1f} {p / o:5.2f}x",
                      flush=True)


if __name__ == "__main__":
    main()
