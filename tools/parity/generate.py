"""Golden parity fixtures from PyTorch for the Swift engine.

Regenerate (torch from the local wheel, never needed by CI):
    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install --find-links /opt/wheels torch==2.13.0+cpu
    /tmp/torchvenv/bin/python tools/parity/generate.py
Writes Tests/Fixtures/parity/*.json. Every file says it is generated and how to regenerate it. Tensors are
stored as {"shape": [...], "data": [...]} with float32 values written exactly (Python floats of float32s).
"""
import json
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "parity")
HEADER = {
    "generated": "by tools/parity/generate.py; do not edit",
    "regenerate": "/tmp/torchvenv/bin/python tools/parity/generate.py (see the script's docstring)",
    "torch": torch.__version__,
}


def tensor(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten().tolist()]}


def write(name, body):
    path = os.path.join(OUT, name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump({**HEADER, **body}, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print("wrote", os.path.relpath(path))


def head_forward(p, denom, scale_param, mode, cfg):
    """DESIGN.md's residual head, written the PyTorch way."""
    t = torch.tanh(p)
    if mode == "fixed_cap":
        delta = cfg["alpha"] * t * cfg["cap"] * cfg["scale"]
    elif mode == "adaptive":
        delta = cfg["k"] * denom.view(-1, 1, 1, 1) * t * cfg["scale"]
    else:
        delta = scale_param * t * cfg["scale"]
    if cfg["clamp"] is not None:
        delta = torch.clamp(delta, -cfg["clamp"], cfg["clamp"])
    return delta


def heads():
    g = torch.Generator().manual_seed(1234)
    modes = {
        "fixed_cap": {"cap": 16.0, "alpha": 1.2},  # legacy Mode A: saturates and clamps often
        "adaptive": {"k": 0.9},
        "learnable": {"learnable_init": 6.0},
    }
    for mode, keys in modes.items():
        for clamp in (None, 8.0):
            cfg = {**keys, "scale": 0.75, "clamp": clamp}
            p = (torch.rand(2, 3, 5, 6, generator=g) * 6 - 3).requires_grad_(True)
            denom = torch.tensor([3.5, 11.25])
            scale_param = torch.tensor(5.5, requires_grad=True)
            r = torch.rand(2, 3, 5, 6, generator=g) - 0.5
            delta = head_forward(p, denom, scale_param, mode, cfg)
            (delta * r).sum().backward()
            write(f"head_{mode}_{'clamp' if clamp else 'noclamp'}", {
                "mode": mode, "config": cfg,
                "p": tensor(p), "denom": tensor(denom), "head_scale": float(scale_param.detach()),
                "r": tensor(r), "delta": tensor(delta),
                "grad_p": tensor(p.grad),
                "grad_head_scale": float(scale_param.grad) if mode == "learnable" else 0.0,
            })


PU21_BANDING_GLARE = [0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627, 0.09150303166,
                      0.9099517204, 596.3148142]  # gfxdisp/pu21 pu21_encoder, type 'banding_glare'


def pu21(y):
    p = PU21_BANDING_GLARE
    yp = y ** p[3]
    return torch.clamp(p[6] * (((p[0] + p[1] * yp) / (1 + p[2] * yp)) ** p[4] - p[5]), min=0)


def loss_value(kind, params, delta, gt_delta, out, target):
    """The loss terms exactly as DESIGN.md and issue 4 define them (mean over the batch by default)."""
    n = delta.shape[0]
    if kind == "huber":
        return torch.nn.functional.huber_loss(delta, gt_delta, delta=params["delta"])
    if kind == "l1":
        return torch.nn.functional.l1_loss(delta, gt_delta)
    if kind == "mse":
        return torch.nn.functional.mse_loss(delta, gt_delta)
    if kind == "histogram":
        sp = torch.sort(delta.reshape(n, -1), dim=1).values
        sg = torch.sort(gt_delta.reshape(n, -1), dim=1).values
        return (sp - sg).abs().mean(dim=1).mean()
    if kind == "moment":
        p, g = delta.reshape(n, -1), gt_delta.reshape(n, -1)
        return ((p.mean(1) - g.mean(1)).abs() + (p.var(1, unbiased=False) - g.var(1, unbiased=False)).abs()).mean()
    if kind == "sparsity":
        return delta.abs().mean()
    if kind == "mu_law_l1":
        mu = params["mu"]
        q = torch.quantile(target.reshape(n, -1), 0.99, dim=1).clamp_min(1e-8).view(n, 1, 1, 1).detach()
        def t(x):
            return torch.log(1 + mu * torch.tanh(torch.clamp(x, min=0) / q)) / torch.log(torch.tensor(1.0 + mu))
        return (t(out) - t(target)).abs().mean()
    if kind == "pu21_l1":
        s = (4000.0 / target.reshape(n, -1).max(dim=1).values).view(n, 1, 1, 1).detach()
        def v(x):
            return pu21(torch.clamp(s * x, 0.005, 10000.0))
        return (v(out) - v(target)).abs().mean()
    raise ValueError(kind)


def losses():
    g = torch.Generator().manual_seed(99)
    eps = 1e-4
    shape = (2, 3, 6, 7)
    # An HDR input over ~16 stops, a target brighter in places (clipped highlights), a predicted residual.
    inp = torch.exp(torch.randn(shape, generator=g) * 2.5 - 1)
    target = inp * torch.exp(torch.randn(shape, generator=g) * 0.7 + 0.3)
    log_img = torch.log(inp + eps)
    gt_delta = torch.log(target + eps) - log_img
    base_delta = gt_delta + torch.randn(shape, generator=g) * 0.8
    cases = [("huber", {"delta": 1.0}), ("huber", {"delta": 0.25}), ("l1", {}), ("mse", {}), ("histogram", {}),
             ("moment", {}), ("sparsity", {}), ("mu_law_l1", {"mu": 5000.0}), ("pu21_l1", {})]
    for kind, params in cases:
        delta = base_delta.clone().requires_grad_(True)
        out = torch.exp(log_img + delta) - eps
        value = loss_value(kind, params, delta, gt_delta, out, target)
        value.backward()
        name = kind + "".join(f"_{k}{v:g}" for k, v in params.items() if kind == "huber")
        write(f"loss_{name}", {
            "type": kind, "params": params, "eps": eps,
            "log_image": tensor(log_img), "delta": tensor(delta), "target": tensor(target),
            "value": float(value.detach()), "grad_delta": tensor(delta.grad),
        })


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    what = sys.argv[1:] or ["heads", "losses"]
    if "heads" in what:
        heads()
    if "losses" in what:
        losses()
