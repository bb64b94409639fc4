"""Reference values of the NTIRE HDR challenge's PSNR-mu for the Swift metric (ImageMetrics.psnrMu).

The challenge's scoring (NTIRE 2021/2022 HDR track, `psnr_tanh_norm_mu_tonemap`) reads gamma-encoded images
(`x ** 2.24` linearises them), normalises by the 99th percentile of the linear reference (`np.percentile`,
linear interpolation, over every value), bounds with tanh, tonemaps with the mu-law (mu = 5000) and takes
PSNR = -10 log10(MSE) with peak 1. The functions below are those definitions, written with numpy alone. This
project's images are linear already, so they are called with gamma = 1 (the challenge's gamma step is then the
identity); every input is rounded to float32 first, as the Swift side reads it.

Regenerate (numpy only, never needed by CI):
    python3 tools/parity/ntire_psnr_mu.py
Writes Tests/Fixtures/ntire/psnr_mu.json: for each case the float32 output and reference (base64 of the
little-endian bytes) and the reference PSNR-mu in dB.
"""
import base64
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "ntire", "psnr_mu.json")


def mu_tonemap(hdr_image, mu=5000):
    return np.log(1 + mu * hdr_image) / np.log(1 + mu)


def tanh_norm_mu_tonemap(hdr_image, norm_value, mu=5000):
    bounded_hdr = np.tanh(hdr_image / norm_value)
    return mu_tonemap(bounded_hdr, mu)


def psnr(im0, im1):
    return -10 * np.log10(np.mean(np.power(im0 - im1, 2)))


def psnr_tanh_norm_mu_tonemap(hdr_nonlinear_ref, hdr_nonlinear_res, percentile=99, gamma=2.24):
    hdr_linear_ref = hdr_nonlinear_ref**gamma
    hdr_linear_res = hdr_nonlinear_res**gamma
    norm_perc = np.percentile(hdr_linear_ref, percentile)
    return psnr(tanh_norm_mu_tonemap(hdr_linear_ref, norm_perc), tanh_norm_mu_tonemap(hdr_linear_res, norm_perc))


def f32(a):
    return np.asarray(a, dtype=np.float32)


def encoded(a):
    return base64.b64encode(f32(a).astype("<f4").tobytes()).decode("ascii")


def cases():
    rng = np.random.default_rng(2021)
    shape = (3, 24, 20)
    # 1. A scene over 6 decades (log-uniform), the output off by ~10% multiplicative noise.
    ref = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), shape))
    yield "log_uniform_noise", ref * np.exp(rng.normal(0, 0.1, shape)), ref
    # 2. Mostly dark with a few highlights far above the 99th percentile; the output clips them at 1.0.
    ref = rng.gamma(2.0, 0.05, shape)
    ref.flat[rng.choice(ref.size, 12, replace=False)] = rng.uniform(50, 5000, 12)
    yield "highlights_clipped", np.minimum(ref, 1.0), ref
    # 3. An output with exact zeros and values far beyond the reference (tanh saturates both ends).
    ref = rng.uniform(0.0, 2.0, shape)
    out = ref.copy()
    out.flat[:40] = 0.0
    out.flat[40:60] = 1e4
    yield "zeros_and_overshoot", out, ref
    # 4. A small, nearly flat image: the percentile interpolates between close values.
    ref = 0.25 + rng.uniform(-1e-3, 1e-3, (3, 4, 5))
    yield "nearly_flat", ref * 1.01, ref


def main():
    body = {
        "generated": "by tools/parity/ntire_psnr_mu.py; do not edit",
        "regenerate": "python3 tools/parity/ntire_psnr_mu.py (numpy %s)" % np.__version__,
        "definition": "NTIRE HDR psnr_tanh_norm_mu_tonemap with gamma = 1 (linear images), percentile 99, mu 5000",
        "cases": [],
    }
    for name, out, ref in cases():
        out, ref = f32(out), f32(ref)
        value = psnr_tanh_norm_mu_tonemap(ref.astype(np.float64), out.astype(np.float64), percentile=99, gamma=1.0)
        body["cases"].append(
            {"name": name, "shape": list(ref.shape), "output": encoded(out), "reference": encoded(ref),
             "psnr_mu_db": float(value)})
    with open(OUT + ".tmp", "w") as f:
        json.dump(body, f, indent=1)
        f.write("\n")
    os.replace(OUT + ".tmp", OUT)
    for c in body["cases"]:
        print("%-22s %.12f dB" % (c["name"], c["psnr_mu_db"]))
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
