"""Says where a run's gains over the identity fall against the documented range of its recipe (a file written by
tools/results/seeds.py): inside the seeds' min-max range, or above or below it, and on which machine that range
was measured.
    python3 tools/results/where.py RUN_DIR docs/results/default.json"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from seeds import run_gains, simd, val_passes  # noqa: E402

LABELS = {"psnr_mu": "PSNR-mu", "pu21_psnr": "PU21-PSNR", "psnr_mu_clip": "PSNR-mu in clip",
          "pu21_psnr_clip": "PU21-PSNR in clip"}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    run, results = sys.argv[1:]
    with open(results) as f:
        ref = json.load(f)
    # A range measured with this machine's kernels, if one beside it was (e.g. default-avx2.json for AVX2).
    if ref["machine"]["simd"] != simd():
        folder = os.path.dirname(results) or "."
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not name.endswith(".json") or path == results:
                continue
            try:
                with open(path) as f:
                    other = json.load(f)
            except (OSError, ValueError):
                continue
            if other.get("name") == ref["name"] and other.get("machine", {}).get("simd") == simd():
                results, ref = path, other
                break
    got = run_gains(run)
    m = ref["machine"]
    print(f"{run} against {results} ({ref['name']}: seeds {', '.join(map(str, ref['seeds']))}, {m['cpu']}, "
          f"{m['simd']}, {ref['date']}):")
    if simd() != m["simd"]:
        print(f"  (this machine's kernels are {simd()}, and no range of the recipe was measured with them: their last "
              "bits differ, so expect the numbers near the range, not equal to one seed's)")
    # Validation with another number of passes per patch scores the same checkpoints differently (one pass about
    # 0.03 dB below eight): not compared, nor against a file that does not say its passes.
    ref_passes, run_passes = ref.get("val_passes"), val_passes(run)
    splits = (("test", "held-out test"), ("val", "validation"))
    if ref_passes != run_passes:
        ran = f"ran {ref_passes} pass(es) per patch" if ref_passes else "do not say their passes per patch"
        print(f"  (the range's validations {ran} and this run's ran {run_passes}: validation not compared)")
        splits = splits[:1]
    for split, title in splits:
        for key, s in ref["gains_db"].get(split, {}).items():
            v = got[split].get(key)
            if v is None:
                continue
            where = "inside" if s["min"] - 0.005 <= v <= s["max"] + 0.005 else ("above" if v > s["max"] else "below")
            print(f"  {title} {LABELS.get(key, key)} gain {v:+.2f} dB: {where} the documented range "
                  f"{s['min']:+.2f} to {s['max']:+.2f} dB (mean {s['mean']:+.2f} +- {s['std']:.2f} over {s['n']} seeds)")


if __name__ == "__main__":
    main()
