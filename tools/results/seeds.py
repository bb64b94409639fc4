"""Summarises runs of one recipe over seeds into a results file (JSON): each gain over the identity (model minus
identity, dB) on the validation set (last validation) and on the held-out test set (the run's `test` record), as
mean, sample standard deviation (n - 1), min and max over the runs, with the machine it was measured on.
    python3 tools/results/seeds.py --name default --config configs/default.yaml RUN_DIR... > docs/results/default.json
`tools/results/where.py` then says where a new run of the recipe falls in those ranges (make train runs it)."""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys

GAINS = [("psnr_mu", "psnr_mu"), ("pu21_psnr", "pu21_psnr"), ("psnr_mu_clip", "psnr_mu_clip"),
         ("pu21_psnr_clip", "pu21_psnr_clip")]


def records(run):
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def gains(record):
    m, i = record.get("model") or {}, record.get("identity") or {}
    return {k: m[k] - i[k] for k, _ in GAINS if isinstance(m.get(k), (int, float)) and isinstance(i.get(k), (int, float))}


def run_gains(run):
    rs = records(run)
    val = [r for r in rs if r.get("kind") == "val"]
    test = [r for r in rs if r.get("kind") == "test"]
    if not val:
        sys.exit(f"seeds.py: {run}: no validation record")
    return {"val": gains(val[-1]), "test": gains(test[-1]) if test else {}}


def val_passes(run):
    """Passes per patch of a run's validations: train.val_self_ensemble, else model.self_ensemble, else 1."""
    with open(os.path.join(run, "config.yaml")) as f:  # the resolved config, written as JSON (valid YAML)
        c = json.load(f)
    return c.get("train", {}).get("val_self_ensemble") or c.get("model", {}).get("self_ensemble") or 1


def simd():
    """The instruction set of the kernels hdrpatch runs here: the CPU's, capped by HDRPATCH_SIMD when set."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    found = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
    order = ["no AVX2", "AVX2", "AVX-512"]
    cap = {"generic": "no AVX2", "avx2": "AVX2", "avx512": "AVX-512"}.get(os.environ.get("HDRPATCH_SIMD", ""))
    return cap if cap and order.index(cap) < order.index(found) else found


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def stats(values):
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--command", default="make train (seeds via --set seed=N)")
    p.add_argument("runs", nargs="+")
    a = p.parse_args()
    per = [run_gains(r) for r in a.runs]
    seeds = []
    for r in a.runs:
        with open(os.path.join(r, "config.yaml")) as f:  # the resolved config, written as JSON (valid YAML)
            seeds.append(json.load(f).get("seed"))
    out = {"name": a.name, "config": a.config, "command": a.command, "seeds": seeds,
           "machine": {"cpu": cpu(), "simd": simd(), "cores": os.cpu_count(),
                       **({"HDRPATCH_SIMD": os.environ["HDRPATCH_SIMD"]} if os.environ.get("HDRPATCH_SIMD") else {})},
           "date": datetime.date.today().isoformat(), "gains_db": {}}
    passes = sorted({val_passes(r) for r in a.runs})
    if len(passes) != 1:
        sys.exit(f"seeds.py: the runs validated with different passes per patch: {passes}")
    out["val_passes"] = passes[0]
    for split in ("val", "test"):
        keys = set.intersection(*(set(g[split]) for g in per)) if per else set()
        out["gains_db"][split] = {k: stats([g[split][k] for g in per]) for k in sorted(keys)}
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
