"""Compares recipes photograph by photograph on the validation set: each run's best checkpoint scored with
`hdrpatch evaluate --per-image --json` (kept in RUN/val-per-image.json, made once), then, for each recipe (a group
of runs, one per seed), every photograph's PSNR-mu gain over the identity as mean +- sample std over the runs, and
each recipe's difference from the first one per photograph. A difference larger than both recipes' spread on that
photograph is marked `*`. The set's mean hides which photographs a recipe wins on; on the validation photographs the
seeds move the sky photographs by 0.2-0.3 dB and the others by a tenth of that (docs/training-recipe.md).

    python3 tools/results/per_image.py --hdrpatch .build/release/hdrpatch \\
        --recipe default runs/default-s0 runs/default-s1 runs/default-s2 \\
        --recipe depth runs/depth-s0 runs/depth-s1 runs/depth-s2

Options: --data (default data/real/val), --passes (default 1, as the default's validations restore), --metric (default
psnr_mu; psnr_mu_clip, pu21_psnr, pu21_psnr_clip or log_corr_clip: the same comparison in clip, in PU21, or of the
fill's shape).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


# What --metric may compare: each image's gain over the identity (model - identity; the identity's shape r is 0).
METRICS = {"psnr_mu": "PSNR-mu gain", "psnr_mu_clip": "PSNR-mu gain in clip", "pu21_psnr": "PU21-PSNR gain",
           "pu21_psnr_clip": "PU21-PSNR gain in clip", "log_corr_clip": "shape in clip (r)"}


def number(v):
    return v if isinstance(v, (int, float)) and v == v else None  # NaN, "nan" and absent are no score


def gains(result, metric="psnr_mu"):
    """{image name: gain in `metric`} of one `evaluate --per-image --json` result; an image without a score there
    (the in-clip metrics of an image whose input never clips) is left out."""
    out = {}
    for r in result["images"]:
        m, i = number(r["model"].get(metric)), number(r["identity"].get(metric))
        if m is not None and i is not None:
            out[r["name"]] = m - i
    return out


def summarize(recipes):
    """recipes: [(name, [{image: gain}, ...])] -> (images, rows); rows: one per image, then "mean", each
    [image, (mean, std or None) per recipe, (difference from the first, marked) per further recipe]."""
    images = list(recipes[0][1][0].keys())
    for name, runs in recipes:
        for r in runs:
            if list(r.keys()) != images:
                raise ValueError(f"{name}: a run scored other images ({sorted(r)}) than {images}")

    def stats(values):
        return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)

    rows = []
    for image in images + ["mean"]:
        cells = []
        for _, runs in recipes:
            values = [statistics.mean(r.values()) if image == "mean" else r[image] for r in runs]
            cells.append(stats(values))
        diffs = []
        base_mean, base_std = cells[0]
        for mean, std in cells[1:]:
            spread = max(base_std or 0, std or 0)
            diffs.append((mean - base_mean, spread > 0 and abs(mean - base_mean) > spread))
        rows.append([image, cells, diffs])
    return images, rows


def scored(run, hdrpatch, data, passes):
    path = os.path.join(run, "val-per-image.json")
    if os.path.exists(path):
        with open(path) as f:
            cached = json.load(f)
        if cached.get("data") == data and cached.get("passes") == passes:
            return cached["result"]
    checkpoint = os.path.join(run, "checkpoints", "best.safetensors")
    if not os.path.exists(checkpoint):
        sys.exit(f"per_image.py: {run}: no checkpoints/best.safetensors")
    out = subprocess.run([hdrpatch, "evaluate", "--checkpoint", checkpoint, "--data", data, "--per-image", "--json",
                          "--self-ensemble", str(passes)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"per_image.py: {run}: hdrpatch evaluate failed: {out.stderr.strip()}")
    result = json.loads(out.stdout)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"data": data, "passes": passes, "result": result}, f)
    os.replace(tmp, path)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hdrpatch", default=".build/release/hdrpatch")
    ap.add_argument("--data", default="data/real/val")
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--metric", choices=sorted(METRICS), default="psnr_mu",
                    help="what to compare per photograph (default psnr_mu; the cached evaluations hold them all)")
    ap.add_argument("--recipe", nargs="+", action="append", required=True, metavar=("NAME", "RUN"),
                    help="a recipe's name and its runs (one per seed); the first recipe is the reference")
    a = ap.parse_args()
    recipes = []
    for spec in a.recipe:
        if len(spec) < 2:
            sys.exit(f"per_image.py: --recipe {spec[0]}: no runs")
        recipes.append((spec[0], [gains(scored(r, a.hdrpatch, a.data, a.passes), a.metric) for r in spec[1:]]))
    _, rows = summarize(recipes)
    # The photographs' own names, from the set's manifest (`hdrpatch synth` writes one) when it has them.
    try:
        with open(os.path.join(a.data, "manifest.json")) as f:
            sources = {p["id"]: os.path.basename(p["source"]) for p in json.load(f)["pairs"]}
        for r in rows:
            r[0] = sources.get(os.path.splitext(r[0])[0], r[0])
    except (OSError, KeyError, ValueError):
        pass
    width = max(len(r[0]) for r in rows) + 2
    header = "photograph".ljust(width) + "".join(f"{n} (n={len(runs)})".rjust(22) for n, runs in recipes)
    header += "".join(f"{n} - {recipes[0][0]}".rjust(18) for n, _ in recipes[1:])
    print(f"{METRICS[a.metric]} over the identity on {a.data}, each run's best checkpoint, {a.passes} pass(es); "
          "mean +- std over runs; * a difference beyond both recipes' spread")
    print(header)
    for image, cells, diffs in rows:
        line = image.ljust(width)
        line += "".join((f"{m:+.2f} +- {s:.2f}" if s is not None else f"{m:+.2f}").rjust(22) for m, s in cells)
        line += "".join((f"{d:+.3f}" + ("*" if marked else " ")).rjust(18) for d, marked in diffs)
        print(line)


if __name__ == "__main__":
    main()
