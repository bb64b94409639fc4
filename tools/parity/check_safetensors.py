#!/usr/bin/env python3
# Interoperability check (never run by CI): loads a safetensors file hdrpatch wrote with the reference library and
# prints what PyTorch sees. Needs `pip install safetensors numpy torch`.
# Usage: python tools/parity/check_safetensors.py FILE [FILE.state.safetensors]
#   A sample weights file: HDRPATCH_SAFETENSORS_SAMPLE=/tmp/w.safetensors swift test --skip-build \
#       --filter WeightsFileTests/roundTripIsBitExactWithConfigAndStep
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file


def main(paths):
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


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: check_safetensors.py FILE [FILE ...]")
    main(sys.argv[1:])
