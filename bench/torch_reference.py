"""The same training step in PyTorch eager, for `make bench`'s side-by-side ratio (never run by CI).

Without --config: the network of --arch/--depth/--width (tools/parity/generate.py's reference modules and names),
head (learnable, clamp 8), LogNorm, reconstruction, loss (2.0 * Huber) and AdamW, as `hdrpatch bench --what step`
without --config. With --config FILE: that training config's step, as `hdrpatch bench --what step --config FILE`
times it: its network and input planes (model.inputs: log_norm, log_level, clip_mask), residual head and clamp,
LogNorm eps and floor, every loss term with its weight (docs/conventions.md's definitions, generate.py's
loss_value), gradient clipping and AdamW (the schedule's per-step factor is a scalar and left out; so is
hdrpatch's monitor record, which only hdrpatch's step pays for). Both on the same synthetic HDR patches:
x = exp(2 N(0, 1) - 1), target = 1.5 x. The forward row: with --config, LogNorm to reconstruction without the loss
(what hdrpatch's forward row times); without, the whole pipeline with its loss.
    /tmp/torchvenv/bin/python bench/torch_reference.py --depth 5 --width 32 --threads 1 2 --json
    /tmp/torchvenv/bin/python bench/torch_reference.py --config configs/plain.yaml --threads 1 2
    /tmp/torchvenv/bin/python bench/torch_reference.py --config configs/default.yaml --threads 1 2   # the U-Net
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "parity"))
from generate import Head, Plain, UNet, loss_value, pipeline  # noqa: E402


def merged(base, over):
    """`over` put over `base` as configs/README.md's `base:` says: mappings merge key by key (one holding `_delete_:
    true` replaces the base's whole), anything else replaces the base's value."""
    if not isinstance(over, dict):
        return over
    if over.get("_delete_") is True or not isinstance(base, dict):
        return {k: v for k, v in over.items() if k != "_delete_"}
    out = dict(base)
    for k, v in over.items():
        out[k] = merged(base.get(k), v)
    return out


def load_config(path):
    """A training config with its `base:` chain applied (each relative to the file that names it)."""
    import yaml

    with open(path) as f:
        cfg = yaml.safe_load(f) or {}
    base = cfg.pop("base", None)
    if base is None:
        return cfg
    return merged(load_config(os.path.join(os.path.dirname(path), base)), cfg)


class ConfigStep:
    """One training config's step (the subset of keys a step's cost depends on; defaults as configs/README.md)."""

    def __init__(self, path):
        cfg = load_config(path)
        data, model, res = cfg.get("data", {}), cfg["model"], cfg["residual"]
        self.name = "config " + cfg.get("name", os.path.splitext(os.path.basename(path))[0])
        self.batch, self.patch = data.get("batch_size", 16), data.get("patch_size", 64)
        self.eps, self.floor = float(data.get("eps", 1e-4)), float(data.get("denom_floor", 1e-2))
        self.inputs = model.get("inputs", ["log_norm"])
        self.clip_level = float(model.get("clip_level", 1.0))
        cin = 3 * len(self.inputs)
        if model["arch"] == "plain":
            self.net = Plain(model.get("depth", 5), model.get("width", 32), cin)
        else:
            self.net = UNet(model.get("width", 16), model.get("levels", 2), cin)
        mode = res["mode"]
        hcfg = {"scale": float(res.get("scale", 1.0)), "clamp": res["clamp"],
                "cap": float(res.get("cap", 6.0)), "alpha": float(res.get("alpha", 1.0)),
                "k": float(res.get("k", 0.9)), "learnable_init": float(res.get("learnable_init", 6.0))}
        self.head = Head(mode, hcfg)
        self.terms = [(t["type"], float(t["weight"]), {k: float(v) for k, v in t.items() if k not in ("type", "weight")})
                      for t in cfg["loss"]]
        for kind, _, params in self.terms:
            if kind == "huber":
                params.setdefault("delta", 1.0)
            if kind in ("mu_law_l1", "mu_law_mse"):
                params.setdefault("mu", 5000.0)
        opt = cfg["optim"]
        if opt["type"] != "adamw":
            raise SystemExit(f"{path}: optim.type {opt['type']}: this reference times adamw only")
        self.opt = torch.optim.AdamW(list(self.net.parameters()) + list(self.head.parameters()), lr=float(opt["lr"]),
                                     betas=tuple(opt.get("betas", (0.9, 0.999))), eps=float(opt.get("eps", 1e-8)),
                                     weight_decay=float(opt.get("weight_decay", 0.01)))
        self.grad_clip = cfg["train"].get("grad_clip")

    def predict(self, x):
        """LogNorm, input planes, network, head, reconstruction: hdrpatch's `PatchModel.forward`, the timed forward."""
        eps, n = self.eps, x.shape[0]
        log_img = torch.log(x + eps)
        lo = log_img.reshape(n, -1).amin(1).view(n, 1, 1, 1)
        hi = log_img.reshape(n, -1).amax(1).view(n, 1, 1, 1)
        denom = torch.clamp(hi - lo, min=self.floor)
        planes = {"log_norm": (log_img - lo) / denom, "log_level": log_img,
                  "clip_mask": (x >= self.clip_level).to(x.dtype)}
        xin = torch.cat([planes[p] for p in self.inputs], dim=1) if len(self.inputs) > 1 else planes["log_norm"]
        delta = self.head(self.net(xin), denom.view(-1))
        return log_img, delta, torch.exp(log_img + delta) - eps

    def forward(self, x, target):
        log_img, delta, out = self.predict(x)
        gt_delta = torch.log(target + self.eps) - log_img
        return sum(w * loss_value(kind, params, delta, gt_delta, out, target) for kind, w, params in self.terms)

    def step(self, x, target):
        self.opt.zero_grad()
        self.forward(x, target).backward()
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(list(self.net.parameters()) + list(self.head.parameters()),
                                           float(self.grad_clip))
        self.opt.step()


class DefaultStep:
    """`hdrpatch bench --what step` without --config: 2.0 * Huber, AdamW(lr 1e-4), no clipping."""

    def __init__(self, a):
        self.net = Plain(a.depth, a.width) if a.arch == "plain" else UNet(a.width, a.levels)
        self.head = Head("learnable", {"learnable_init": 6.0, "scale": 1.0, "clamp": 8.0})
        self.opt = torch.optim.AdamW(list(self.net.parameters()) + list(self.head.parameters()), lr=1e-4)
        self.batch, self.patch = a.batch, a.patch
        self.name = f"plain d{a.depth} w{a.width}" if a.arch == "plain" else f"unet w{a.width} l{a.levels}"

    def predict(self, x):
        return pipeline(self.net, self.head, x, x, 1e-4, 1e-2)

    def forward(self, x, target):
        return pipeline(self.net, self.head, x, target, 1e-4, 1e-2)[0]

    def step(self, x, target):
        self.opt.zero_grad()
        self.forward(x, target).backward()
        self.opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", help="time this training config's step (YAML)")
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
    s = ConfigStep(a.config) if a.config else DefaultStep(a)
    shape = (s.batch, 3, s.patch, s.patch)
    x = torch.exp(torch.randn(shape) * 2 - 1)
    target = x * 1.5
    rows = []
    for t in a.threads:
        torch.set_num_threads(t)
        for _ in range(3):
            s.step(x, target)
        steps, fwds = [], []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            s.step(x, target)
            t1 = time.perf_counter()
            with torch.no_grad():
                s.predict(x)
            t2 = time.perf_counter()
            steps.append((t1 - t0) * 1e3)
            fwds.append((t2 - t1) * 1e3)
        rows.append({"name": "step " + s.name, "threads": t, "median_ms": statistics.median(steps)})
        rows.append({"name": "forward " + s.name, "threads": t, "median_ms": statistics.median(fwds)})
        if not a.json:
            print(f"torch {torch.__version__} {s.name} batch {s.batch} x {s.patch}x{s.patch}, {t} thread(s): "
                  f"train step median {statistics.median(steps):.1f} ms, forward "
                  f"{statistics.median(fwds):.1f} ms")
    if a.json:
        print(json.dumps({"what": "step", "torch": torch.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
