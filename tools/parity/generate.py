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


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    what = sys.argv[1:] or ["heads"]
    if "heads" in what:
        heads()
