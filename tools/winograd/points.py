"""Accuracy of Winograd F(4x4, 3x3) in float32 for several interpolation-point sets (numpy only).

For each point set (plus infinity) it builds A^T and G from the points (Vandermonde / Lagrange) and solves for
B^T so that A^T[(G g) * (B^T d)] is the 3-tap correlation exactly (the residual is printed), then runs one
32 -> 32 channel 64x64 layer in float32 through the 2D transforms and reports the worst and rms error relative
to the largest output, against a float64 direct reference, next to float32 direct convolution. This is how
CKernels/winograd.c's points 0, 1, -1, 1/2, -2 were chosen.

    python3 tools/winograd/points.py
"""
from fractions import Fraction

import numpy as np


def matrices(points, m=4, r=3):
    a = m + r - 1
    n = a - 1
    p = [Fraction(x) for x in points]
    at = np.zeros((m, a))
    g = np.zeros((a, r))
    for j in range(n):
        for i in range(m):
            at[i, j] = float(p[j] ** i)
        den = Fraction(1)
        for k in range(n):
            if k != j:
                den *= p[j] - p[k]
        for k in range(r):
            g[j, k] = float(p[j] ** k / den)
    at[m - 1, a - 1] = 1
    g[a - 1, r - 1] = 1
    rows, rhs = [], []
    for i in range(m):
        for k in range(r):
            for j in range(a):
                coef = np.zeros((a, a))
                for x in range(a):
                    coef[x, j] = at[i, x] * g[x, k]
                rows.append(coef.ravel())
                rhs.append(1.0 if j == i + k else 0.0)
    sol = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    residual = np.abs(np.array(rows) @ sol - np.array(rhs)).max()
    return at, g, sol.reshape(a, a), residual


def layer_errors(points, rng, m=4, channels=32, size=64):
    at, g, bt, residual = matrices(points, m)
    a = m + 2
    f = np.float32
    x = np.maximum(rng.standard_normal((channels, size + 2, size + 2)), 0)
    x[:, 0, :] = x[:, -1, :] = x[:, :, 0] = x[:, :, -1] = 0
    w = rng.standard_normal((channels, channels, 3, 3)) * np.sqrt(2 / (9 * channels))
    ref = np.zeros((channels, size, size))
    direct = np.zeros((channels, size, size), f)
    x32, w32 = x.astype(f), w.astype(f)
    for ky in range(3):
        for kx in range(3):
            ref += np.einsum("oc,chw->ohw", w[:, :, ky, kx], x[:, ky:ky + size, kx:kx + size])
            direct += np.einsum("oc,chw->ohw", w32[:, :, ky, kx], x32[:, ky:ky + size, kx:kx + size]).astype(f)
    u = np.einsum("xk,ockl,yl->xyoc", g.astype(f), w32, g.astype(f)).astype(f)
    t = size // m
    tiles = np.zeros((channels, t, t, a, a), f)
    for ty in range(t):
        for tx in range(t):
            tiles[:, ty, tx] = x32[:, m * ty:m * ty + a, m * tx:m * tx + a]
    v = np.einsum("xi,ctsij,yj->xytsc", bt.astype(f), tiles, bt.astype(f)).astype(f)
    mm = np.einsum("xyoc,xytsc->xytso", u, v).astype(f)
    y = np.einsum("ix,xytso,jy->otsij", at.astype(f), mm, at.astype(f)).astype(f)
    out = np.zeros((channels, size, size), f)
    for ty in range(t):
        for tx in range(t):
            out[:, m * ty:m * ty + m, m * tx:m * tx + m] = y[:, ty, tx]
    scale = np.abs(ref).max()
    return residual, [np.abs(e - ref).max() / scale for e in (direct, out)], [np.sqrt(((e - ref) ** 2).mean()) / scale for e in (direct, out)]


def main():
    sets = ([0, 1, -1, 2, -2], [0, 1, -1, 0.5, -0.5], [0, 1, -1, 0.5, -2], [0, 1, -1, 2, -0.5])
    for seed in range(3):
        for points in sets:
            residual, worst, rms = layer_errors(points, np.random.default_rng(seed))
            print(f"seed {seed} points {points} (+inf): exactness residual {residual:.1e}; worst error direct "
                  f"{worst[0]:.2e} winograd {worst[1]:.2e}; rms direct {rms[0]:.2e} winograd {rms[1]:.2e}")


if __name__ == "__main__":
    main()
