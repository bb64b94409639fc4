#!/usr/bin/env python3
# Interoperability check (never run by CI): loads a safetensors file hdrpatch wrote with the reference library and
# prints what PyTorch sees. Needs `pip install safetensors numpy torch`.
# Usage: python tools/parity/check_safetensors.py [--reference [--weights raw|ema]] FILE [FILE.state.safetensors]
#   --reference: also build the documented network (tools/parity/generate.py's Plain / UNet) from the file's
#   metadata config `model` and load the weights into it with strict=True, then run it once.
#   Network samples: HDRPATCH_NETWORK_SAMPLES=/tmp/nets swift test --skip-build --filter NetworkCheckpointTests
#   A sample weights file: HDRPATCH_SAFETENSORS_SAMPLE=/tmp/w.safetensors swift test --skip-build \
#       --filter WeightsFileTests/roundTripIsBitExactWithConfigAndStep
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file


def reference_module(metadata):
    """The PyTorch reference architecture named by the metadata's model config."""
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from generate import Plain, UNet
    model = json.loads(metadata["config"])["model"]
    if model["arch"] == "plain":
        return Plain(depth=model["depth"], width=model["width"])
    return UNet(width=model["width"], levels=model["levels"])


def main(paths, reference, weights):
    for path in paths:
        tensors = load_file(path)  # the reference reader validates header, dtype and offsets
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
        print(f"{path}: {len(tensors)} tensors")
        for name, t in tensors.items():
            print(f"  {name:32s} {str(t.dtype):14s} {str(list(t.shape)):16s} sum={t.double().sum().item():.9g}")
        for key, value in sorted(metadata.items()):
            if key == "config":
                value = json.dumps(json.loads(value), sort_keys=True)  # proves it is valid JSON
            print(f"  __metadata__[{key!r}] = {value}")
        # A plain module built from the documented names accepts the state dict as is.
        module = torch.nn.Module()
        for name, t in tensors.items():
            owner = module
            *parents, leaf = name.split(".")
            for p in parents:
                if not hasattr(owner, p):
                    owner.add_module(p, torch.nn.Module())
                owner = getattr(owner, p)
            owner.register_parameter(leaf, torch.nn.Parameter(torch.zeros_like(t)))
        result = module.load_state_dict(tensors, strict=True)
        print(f"  load_state_dict(strict=True): {result}")
        if reference:
            # A run with train.ema holds the raw weights under their names and the EMA under ema.<name>: pick one.
            if weights == "ema":
                if not any(n.startswith("ema.") for n in tensors):
                    sys.exit(f"{path}: holds no EMA weights (no 'ema.' tensors), only the raw ones")
                chosen = {n[len("ema."):]: t for n, t in tensors.items() if n.startswith("ema.")}
            else:
                chosen = {n: t for n, t in tensors.items() if not n.startswith("ema.")}
            print(f"  reference load: the {weights} weights")
            net = reference_module(metadata)
            print(f"  reference {type(net).__name__}.load_state_dict(strict=True): {net.load_state_dict(chosen, strict=True)}")
            with torch.no_grad():
                out = net(torch.full((1, 3, 16, 16), 0.5))
            print(f"  reference forward on a constant 16x16 patch: shape {list(out.shape)}, mean {out.mean().item():.6g}")


if __name__ == "__main__":
    argv = sys.argv[1:]
    weights = "raw"
    if "--weights" in argv:
        i = argv.index("--weights")
        weights = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i:i + 2]
        if weights not in ("raw", "ema"):
            sys.exit("--weights takes raw or ema")
    args = [a for a in argv if a != "--reference"]
    if not args:
        sys.exit("usage: check_safetensors.py [--reference [--weights raw|ema]] FILE [FILE ...]")
    main(args, "--reference" in argv, weights)
