"""The same training step in PyTorch eager, for `make bench`'s side-by-side ratio (never run by CI).

Same network (tools/parity/generate.py's reference modules and names), head (learnable, clamp 8), LogNorm,
reconstruction, loss (2.0 * Huber) and AdamW as `hdrpatch bench --what step`, on synthetic HDR patches.
    /tmp/torchvenv/bin/python bench/torch_reference.py --depth 5 --width 32 --threads 1 2 --json
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "parity"))
from generate import Head, Plain, UNet, pipeline  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="plain")
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--levels", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.manual_seed(0)
    net = Plain(a.depth, a.width) if a.arch == "plain" else UNet(a.width, a.levels)
    head = Head("learnable", {"learnable_init": 6.0, "scale": 1.0, "clamp": 8.0})
    opt = torch.optim.AdamW(list(net.parameters()) + list(head.parameters()), lr=1e-4)
    shape = (a.batch, 3, a.patch, a.patch)
    x = torch.exp(torch.randn(shape) * 2 - 1)
    target = x * 1.5
    name = f"plain d{a.depth} w{a.width}" if a.arch == "plain" else f"unet w{a.width} l{a.levels}"
    rows = []
    for t in a.threads:
        torch.set_num_threads(t)

        def step():
            opt.zero_grad()
            loss, _ = pipeline(net, head, x, target, 1e-4, 1e-2)
            loss.backward()
            opt.step()

        for _ in range(3):
            step()
        steps, fwds = [], []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            step()
            t1 = time.perf_counter()
            with torch.no_grad():
                pipeline(net, head, x, target, 1e-4, 1e-2)
            t2 = time.perf_counter()
            steps.append((t1 - t0) * 1e3)
            fwds.append((t2 - t1) * 1e3)
        rows.append({"name": "step " + name, "threads": t, "median_ms": statistics.median(steps)})
        rows.append({"name": "forward " + name, "threads": t, "median_ms": statistics.median(fwds)})
        if not a.json:
            print(f"torch {torch.__version__} {name} batch {a.batch} x {a.patch}x{a.patch}, {t} thread(s): "
                  f"train step median {statistics.median(steps):.1f} ms, forward {statistics.median(fwds):.1f} ms")
    if a.json:
        print(json.dumps({"what": "step", "torch": torch.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
