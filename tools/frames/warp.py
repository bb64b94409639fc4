"""Backward warp of a rendered frame t into the view of frame t + 1, with disocclusion detection and hole fill.

For every pixel of frame t + 1: the surface point its centre ray hits (its distance and body from `render.geometry`)
is carried back to time t by its body's motion (the static world does not move; object i moves by its own matrix),
projected into camera t, and frame t's colour is read there bilinearly from the taps that see that same surface.
A tap sees it when it hit the same body at the expected distance (within 2% plus the tap's own distance step to its
neighbours, so slanted surfaces pass). Sky pixels reproject by direction alone and need sky in frame t.
A pixel with no such tap is a hole: a disocclusion (hidden at t behind something else) or outside frame t's view.
Holes are filled from the nearest valid pixel (layers peeled inwards from the hole's rim, each pixel taking the
mean of its valid 8-neighbours), what a frame extrapolator without a network would show there.

numpy only: no Mitsuba here, so the tests can feed it synthetic geometry too.
"""

import numpy as np

from render import body_matrices, pixel_rays, project
from scenes import camera_pose

DEPTH_TOLERANCE = 0.02


def _distance_step(dist):
    """Per pixel: the largest change of distance to a 4-neighbour (0 at the sky)."""
    d = np.where(np.isfinite(dist), dist, np.nan)
    step = np.zeros_like(d)
    for axis in (0, 1):
        diff = np.abs(np.diff(d, axis=axis))
        diff = np.nan_to_num(diff, nan=0.0)
        pad_lo = [(0, 0), (0, 0)]
        pad_hi = [(0, 0), (0, 0)]
        pad_lo[axis] = (1, 0)
        pad_hi[axis] = (0, 1)
        step = np.maximum(step, np.pad(diff, pad_lo))
        step = np.maximum(step, np.pad(diff, pad_hi))
    return step


def source_points(scene, t0, t1, dist1, body1, width, height):
    """Where each pixel of frame t1 was at time t0: continuous pixel coordinates in camera t0 (x, y), the expected
    distance from camera t0 (inf for sky) and the pixel's body."""
    origin1, dirs1 = pixel_rays(scene, t1, width, height)
    sky = ~np.isfinite(dist1)
    p1 = origin1 + dirs1 * np.where(sky, 0.0, dist1)[..., None]
    m0 = body_matrices(scene, t0)
    m1 = body_matrices(scene, t1)
    p0 = p1.copy()
    for b in range(len(m0)):
        sel = (body1 == b) & ~sky
        if b == 0 or not sel.any():
            continue
        move = m0[b] @ np.linalg.inv(m1[b])
        pts = p1[sel]
        p0[sel] = pts @ move[:3, :3].T + move[:3, 3]
    origin0, _, _ = camera_pose(scene, t0)
    # The sky is at infinity: only the direction matters.
    p0[sky] = origin0 + dirs1[sky] * 1e7
    x, y, expect = project(scene, t0, p0, width, height)
    expect = np.where(sky, np.inf, expect)
    return x, y, expect


def warp(rgb0, dist0, body0, scene, t0, t1, dist1, body1):
    """(warped (H, W, 3) float32, hole (H, W) bool): frame t0's colours in frame t1's view, holes filled."""
    height, width = dist1.shape
    x, y, expect = source_points(scene, t0, t1, dist1, body1, width, height)
    step0 = _distance_step(dist0)
    inside = np.isfinite(x) & np.isfinite(y) & (x > -0.5) & (x < width - 0.5) & (y > -0.5) & (y < height - 0.5)
    xs = np.where(inside, x, 0.0)
    ys = np.where(inside, y, 0.0)
    xf = np.floor(xs).astype(int)
    yf = np.floor(ys).astype(int)
    fx = xs - xf
    fy = ys - yf
    acc = np.zeros((height, width, 3))
    wsum = np.zeros((height, width))
    for dy in (0, 1):
        for dx in (0, 1):
            tx = np.clip(xf + dx, 0, width - 1)
            ty = np.clip(yf + dy, 0, height - 1)
            w = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
            same_body = body0[ty, tx] == body1
            d0 = dist0[ty, tx]
            sky = ~np.isfinite(expect)
            with np.errstate(invalid="ignore"):
                near = np.abs(d0 - expect) <= DEPTH_TOLERANCE * expect + step0[ty, tx]
            ok = inside & same_body & np.where(sky, ~np.isfinite(d0), near)
            # A valid tap keeps a tiny weight where its bilinear one is 0, so it still counts as a view.
            w = np.where(ok, np.maximum(w, 1e-12), 0.0)
            acc += w[..., None] * rgb0[ty, tx]
            wsum += w
    hole = wsum <= 0
    warped = np.where(hole[..., None], 0.0, acc / np.maximum(wsum, 1e-12)[..., None])
    return fill_holes(warped.astype(np.float32), hole), hole


def fill_holes(img, hole):
    """`img` with every hole pixel set from the nearest valid pixels (onion peeling, 8-neighbourhood means)."""
    out = img.copy()
    valid = ~hole
    if not valid.any():
        return out
    height, width = hole.shape
    while not valid.all():
        pad_v = np.pad(valid, 1)
        pad_i = np.pad(out, ((1, 1), (1, 1), (0, 0)))
        total = np.zeros_like(out)
        count = np.zeros(hole.shape)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dx == 0 and dy == 0:
                    continue
                v = pad_v[1 + dy:1 + dy + height, 1 + dx:1 + dx + width]
                total += v[..., None] * pad_i[1 + dy:1 + dy + height, 1 + dx:1 + dx + width]
                count += v
        grow = ~valid & (count > 0)
        out[grow] = total[grow] / count[grow][..., None]
        valid = valid | grow
    return out
