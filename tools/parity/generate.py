"""Golden parity fixtures from PyTorch for the Swift engine.

Regenerate (torch from the local wheel, never needed by CI):
    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install --find-links /opt/wheels torch==2.13.0+cpu
    /tmp/torchvenv/bin/python tools/parity/generate.py [heads losses bound networks]   (default: all)
Writes Tests/Fixtures/parity/*.json. Every file says it is generated and how to regenerate it. Tensors are
stored as {"shape": [...], "f32le": base64 of the little-endian float32 bytes}: exact and compact.
"""
import base64
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
    """Exact and compact: the float32 values' little-endian bytes, base64-encoded."""
    t = t.detach().to(torch.float32).contiguous()
    raw = t.numpy().astype("<f4").tobytes()
    return {"shape": list(t.shape), "f32le": base64.b64encode(raw).decode("ascii")}


def write(name, body):
    path = os.path.join(OUT, name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump({**HEADER, **body}, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print("wrote", os.path.relpath(path))


def head_forward(p, denom, scale_param, mode, cfg):
    """The residual head of docs/conventions.md, written the PyTorch way."""
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
    """The loss terms exactly as docs/conventions.md defines them (mean over the batch by default)."""
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
    if kind in ("mu_law_l1", "mu_law_mse"):
        mu = params["mu"]
        q = torch.quantile(target.reshape(n, -1), 0.99, dim=1).clamp_min(1e-8).view(n, 1, 1, 1).detach()
        def t(x):
            return torch.log(1 + mu * torch.tanh(torch.clamp(x, min=0) / q)) / torch.log(torch.tensor(1.0 + mu))
        e = t(out) - t(target)
        return e.abs().mean() if kind == "mu_law_l1" else (e * e).mean()
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
             ("moment", {}), ("sparsity", {}), ("mu_law_l1", {"mu": 5000.0}), ("mu_law_mse", {"mu": 5000.0}), ("pu21_l1", {})]
    for kind, params in cases:
        delta = base_delta.clone().requires_grad_(True)
        out = torch.clamp(torch.exp(log_img + delta) - eps, min=0)  # radiance is never negative
        value = loss_value(kind, params, delta, gt_delta, out, target)
        value.backward()
        name = kind + "".join(f"_{k}{v:g}" for k, v in params.items() if kind == "huber")
        write(f"loss_{name}", {
            "type": kind, "params": params, "eps": eps,
            "log_image": tensor(log_img), "delta": tensor(delta), "target": tensor(target),
            "value": float(value.detach()), "grad_delta": tensor(delta.grad),
        })


def region_losses():
    """The region-weighted L1 terms: hole_l1 (|e| weighted by the batch's region masks, (N, 1, H, W), some soft) and
    clip_l1 (|e| where some input channel reaches `level`), both summed and divided by every element."""
    g = torch.Generator().manual_seed(101)
    eps = 1e-2
    shape = (2, 3, 6, 7)
    inp = torch.exp(torch.randn(shape, generator=g) * 1.5 - 1)
    # A phone-like clip at 1.0 for a third of the pixels (one channel each), and values above it elsewhere.
    clip = torch.rand(2, 1, 6, 7, generator=g) < 0.33
    channel = torch.randint(0, 3, (2, 1, 6, 7), generator=g)
    onehot = torch.nn.functional.one_hot(channel.squeeze(1), 3).permute(0, 3, 1, 2).bool()
    inp = torch.where(clip & onehot, torch.ones_like(inp), inp)
    target = inp * torch.exp(torch.randn(shape, generator=g) * 0.7 + 0.3)
    log_img = torch.log(inp + eps)
    gt_delta = torch.log(target + eps) - log_img
    base_delta = gt_delta + torch.randn(shape, generator=g) * 0.8
    regions = (torch.rand(2, 1, 6, 7, generator=g) < 0.3).float()
    regions[0, 0, 2, 3] = 0.5
    regions[1, 0, 4, 1] = 0.25
    for kind, params in [("hole_l1", {}), ("clip_l1", {"level": 1.0}), ("clip_l1", {"level": 2.5})]:
        delta = base_delta.clone().requires_grad_(True)
        err = (delta - gt_delta).abs()
        if kind == "hole_l1":
            value = (regions * err).sum() / err.numel()
        else:
            clipped = (inp >= params["level"]).any(dim=1, keepdim=True).float()
            value = (clipped * err).sum() / err.numel()
        value.backward()
        body = {
            "type": kind, "params": params, "eps": eps,
            "log_image": tensor(log_img), "delta": tensor(delta), "target": tensor(target),
            "value": float(value.detach()), "grad_delta": tensor(delta.grad),
        }
        if kind == "hole_l1":
            body["regions"] = tensor(regions)
        write(f"loss_{kind}" + "".join(f"_{k}{v:g}" for k, v in params.items()), body)


def bound():
    """The output's lower bound: out = clamp(exp(log_image + delta) - eps, min=0) where the residual pulls dark pixels
    below eps (eps 1e-2, as the default config), with the two linear-domain terms through it."""
    g = torch.Generator().manual_seed(7)
    eps = 1e-2
    shape = (2, 3, 8, 9)
    inp = torch.exp(torch.randn(shape, generator=g) * 2.0 - 3.5)
    target = inp * torch.exp(torch.randn(shape, generator=g) * 0.5)
    log_img = torch.log(inp + eps)
    gt_delta = torch.log(target + eps) - log_img
    base_delta = torch.randn(shape, generator=g) * 1.5 - 0.5
    for kind, params in [("mu_law_l1", {"mu": 5000.0}), ("mu_law_mse", {"mu": 5000.0}), ("pu21_l1", {})]:
        delta = base_delta.clone().requires_grad_(True)
        unbounded = torch.exp(log_img + delta) - eps
        out = torch.clamp(unbounded, min=0)
        value = loss_value(kind, params, delta, gt_delta, out, target)
        value.backward()
        write(f"bound_{kind}", {
            "type": kind, "params": params, "eps": eps,
            "log_image": tensor(log_img), "delta": tensor(delta), "target": tensor(target),
            "out": tensor(out), "negative": int((unbounded < 0).sum()),
            "value": float(value.detach()), "grad_delta": tensor(delta.grad),
        })


class Plain(torch.nn.Module):
    """`arch: plain`: depth conv3x3 (padding 1), LeakyReLU(0.2) between, last conv to 3 channels, no activation.
    Parameters `layers.<i>.weight` (out, in, 3, 3) and `layers.<i>.bias` (out)."""

    def __init__(self, depth, width, cin=3):
        super().__init__()
        chans = [cin] + [width] * (depth - 1) + [3]
        self.layers = torch.nn.ModuleList(torch.nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(depth))

    def forward(self, x):
        for i, conv in enumerate(self.layers):
            x = conv(x)
            if i < len(self.layers) - 1:
                x = torch.nn.functional.leaky_relu(x, 0.2)
        return x


class Block(torch.nn.Module):
    """conv3x3(stride) -> LeakyReLU(0.2) -> conv3x3 -> LeakyReLU(0.2); names conv1, conv2."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        x = torch.nn.functional.leaky_relu(self.conv1(x), 0.2)
        return torch.nn.functional.leaky_relu(self.conv2(x), 0.2)


class UNet(torch.nn.Module):
    """`arch: unet` with `width` w and `levels` L (H and W divisible by 2^L):
    enc.0 = Block(3 -> w, stride 1); enc.l = Block(w*2^(l-1) -> w*2^l, stride 2) for l = 1..L;
    for l = L-1 .. 0: x = nearest-upsample x2 of x, concat [x, enc.l output] on channels,
    dec.l = Block(w*2^(l+1) + w*2^l -> w*2^l, stride 1); out = conv1x1(w -> 3), no activation.
    Parameters: enc.<l>.conv{1,2}.{weight,bias}, dec.<l>.conv{1,2}.{weight,bias}, out.{weight,bias}."""

    def __init__(self, width, levels, cin=3):
        super().__init__()
        self.levels = levels
        w = [width * 2 ** l for l in range(levels + 1)]
        self.enc = torch.nn.ModuleList([Block(cin, w[0], 1)] + [Block(w[l - 1], w[l], 2) for l in range(1, levels + 1)])
        self.dec = torch.nn.ModuleList(Block(w[l + 1] + w[l], w[l], 1) for l in range(levels))
        self.out = torch.nn.Conv2d(w[0], 3, 1)

    def forward(self, x):
        skips = []
        for l, block in enumerate(self.enc):
            x = block(x)
            skips.append(x)
        for l in reversed(range(self.levels)):
            x = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
            x = self.dec[l](torch.cat([x, skips[l]], dim=1))
        return self.out(x)


class Head(torch.nn.Module):
    def __init__(self, mode, cfg):
        super().__init__()
        self.mode, self.cfg = mode, cfg
        if mode == "learnable":
            self.scale = torch.nn.Parameter(torch.tensor(cfg["learnable_init"]))

    def forward(self, p, denom):
        return head_forward(p, denom, getattr(self, "scale", None), self.mode, self.cfg)


def pipeline(net, head, x, target, eps, floor):
    """LogNorm -> network -> head -> reconstruction -> 2.0 * Huber(delta, gt_delta), as docs/conventions.md."""
    log_img = torch.log(x + eps)
    n = x.shape[0]
    lo = log_img.reshape(n, -1).amin(1).view(n, 1, 1, 1)
    hi = log_img.reshape(n, -1).amax(1).view(n, 1, 1, 1)
    denom = torch.clamp(hi - lo, min=floor)
    xn = (log_img - lo) / denom
    p = net(xn)
    delta = head(p, denom.view(-1))
    out = torch.clamp(torch.exp(log_img + delta) - eps, min=0)  # radiance is never negative
    gt_delta = torch.log(target + eps) - log_img
    loss = 2.0 * torch.nn.functional.huber_loss(delta, gt_delta, delta=1.0)
    return loss, {"xn": xn, "p": p, "delta": delta, "out": out}


def delta_pre_clamp(net, head, x, eps, floor):
    """The head's residual before the clamp, for reporting how many elements the clamp cuts."""
    with torch.no_grad():
        cfg = dict(head.cfg, clamp=None)
        log_img = torch.log(x + eps)
        n = x.shape[0]
        lo = log_img.reshape(n, -1).amin(1).view(n, 1, 1, 1)
        denom = torch.clamp(log_img.reshape(n, -1).amax(1).view(n, 1, 1, 1) - lo, min=floor)
        return head_forward(net((log_img - lo) / denom), denom.view(-1), getattr(head, "scale", None), head.mode, cfg)


def networks():
    eps, floor = 1e-4, 1e-2
    modes = {"fixed_cap": {"cap": 6.0, "alpha": 1.0}, "adaptive": {"k": 0.9}, "learnable": {"learnable_init": 6.0}}
    for arch in ("plain", "unet"):
        for mode, keys in modes.items():
            # A clamp of 0.5 cuts some elements of these small nets' residuals (8.0 would never bite here).
            for clamp in (None, 0.5):
                g = torch.Generator().manual_seed(7)
                torch.manual_seed(7)
                net = Plain(depth=3, width=6) if arch == "plain" else UNet(width=4, levels=2)
                cfg = {**keys, "scale": 1.0, "clamp": clamp}
                head = Head(mode, cfg)
                x = torch.exp(torch.randn(2, 3, 12, 12, generator=g) * 2 - 1)
                target = x * torch.exp(torch.randn(2, 3, 12, 12, generator=g) * 0.5 + 0.2)
                params = dict(net.named_parameters())
                params.update({"head." + k: v for k, v in head.named_parameters()})
                weights = {k: tensor(v) for k, v in params.items()}
                loss, acts = pipeline(net, head, x, target, eps, floor)
                loss.backward()
                grads = {k: tensor(v.grad) for k, v in params.items()}
                # 20 AdamW steps on the same batch from the same start; the loss before each update.
                opt = torch.optim.AdamW(list(params.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
                opt.zero_grad()
                trajectory = []
                for _ in range(20):
                    opt.zero_grad()
                    l, _ = pipeline(net, head, x, target, eps, floor)
                    l.backward()
                    trajectory.append(float(l.detach()))
                    opt.step()
                clamped = int((delta_pre_clamp(net, head, x, eps, floor).abs() >= clamp).sum()) if clamp else 0
                write(f"net_{arch}_{mode}_{'clamp' if clamp else 'noclamp'}", {
                    "clamped_elements": clamped,
                    "arch": arch, "model": {"depth": 3, "width": 6} if arch == "plain" else {"width": 4, "levels": 2},
                    "mode": mode, "residual": cfg, "eps": eps, "denom_floor": floor,
                    "loss": {"type": "huber", "weight": 2.0, "delta": 1.0},
                    "optim": {"type": "adamw", "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01},
                    "parameter_order": list(params.keys()),
                    "input": tensor(x), "target": tensor(target), "weights": weights,
                    "activations": {k: tensor(v) for k, v in acts.items()},
                    "loss_value": float(loss.detach()), "grads": grads, "trajectory": trajectory,
                })


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    what = sys.argv[1:] or ["heads", "losses", "bound", "networks"]
    if "heads" in what:
        heads()
    if "losses" in what:
        losses()
        region_losses()
    if "bound" in what:
        bound()
    if "networks" in what:
        networks()
