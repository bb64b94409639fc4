"""Where the clipped pixels of a paired set lie: how deep inside their clipped regions, and how bright the target is
there. For each set (a directory with input/ and target/ EXR pairs, e.g. `hdrpatch synth`'s output, data/real/val,
data/heldout/phone-full): the share of images with a clip, the mean clipped share (a pixel is clipped when its
largest input channel is >= --clip-level), the clipped pixels by depth (the octagonal distance of the `clip_depth`
input plane, Sources/Model/NetworkInputs.swift: the unclipped region grown by a 3x3 square and a 3-pixel cross in
turn, here up to 64 steps, pixels outside the image neither stop nor carry the growth), the target's log2 mean-RGB
level at each depth, and the correlation of that level with depth.

With --sources DIR it also emulates exposing P x P patches of the clean sources by the median luminance of a window
around each patch (instead of the patch's own median, as configs/degrade/online_median.yaml does), for each
--windows side, without noise or quantization: what share would clip, and how deep.

    .venv/bin/python tools/data/clip_stats.py TRAIN_PAIRS data/real/val data/heldout/phone-full
    .venv/bin/python tools/data/clip_stats.py --sources data/real/sources/train --windows 0 128 192 256 384

Needs numpy and the OpenEXR package (make setup's venv).
"""
import argparse
import glob
import os

import numpy as np
import OpenEXR

BINS = ((1, 1), (2, 3), (4, 7), (8, 15), (16, 31), (32, 64))


def read_rgb(path):
    with OpenEXR.File(path) as f:
        ch = f.channels()
        if "RGB" in ch:
            a = ch["RGB"].pixels
        elif "RGBA" in ch:
            a = ch["RGBA"].pixels[..., :3]
        else:
            a = np.stack([ch[c].pixels for c in "RGB"], -1)
    return a.astype(np.float32)


def depth(clipped, reach=64):
    """Octagonal depth of each clipped pixel (1 at a region's edge), 0 where unclipped, saturating at reach."""
    d = np.zeros(clipped.shape, np.int32)
    grown = ~clipped
    h, w = clipped.shape
    for k in range(1, reach + 1):
        if grown.all():
            break
        d[~grown] += 1
        p = np.pad(grown, 1)
        g = grown.copy()
        steps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)] if k % 2 else [(-1, 0), (1, 0), (0, -1), (0, 1)]
        for dy, dx in steps:
            g |= p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        grown = g
    return d


def summarize(name, count, with_clip, shares, levels, depths):
    print(f"{name}: {with_clip} of {count} with a clip ({with_clip / max(count, 1):.0%}), "
          f"mean clipped share {np.mean(shares):.1%}, {sum(len(v) for v in levels)} clipped pixels")
    if not len(levels):
        return
    levels, depths = np.concatenate(levels), np.concatenate(depths)
    print(f"  correlation of the target's log2 level with depth: {np.corrcoef(levels, depths)[0, 1]:.2f}")
    for lo, hi in BINS:
        m = (depths >= lo) & (depths <= hi)
        if m.any():
            v = levels[m]
            print(f"  depth {lo:2d}-{hi:2d}: {m.mean():5.1%} of clipped pixels, target log2 median {np.median(v):+.2f} "
                  f"(25th {np.percentile(v, 25):+.2f}, 75th {np.percentile(v, 75):+.2f}, 95th {np.percentile(v, 95):+.2f})")


def pairs(root, clip_level):
    inputs = sorted(glob.glob(os.path.join(root, "input", "*.exr")))
    if not inputs:
        raise SystemExit(f"error: {root}: no input/*.exr")
    shares, levels, depths, with_clip = [], [], [], 0
    for path in inputs:
        x = read_rgb(path)
        t = read_rgb(os.path.join(root, "target", os.path.basename(path)))
        clipped = x.max(-1) >= clip_level
        shares.append(clipped.mean())
        if clipped.any():
            with_clip += 1
            levels.append(np.log2(np.maximum(t.mean(-1)[clipped], 1e-6)))
            depths.append(depth(clipped)[clipped])
    summarize(root, len(inputs), with_clip, shares, levels, depths)


def windows(sources, sides, patch, count, seed):
    files = sorted(glob.glob(os.path.join(sources, "*.exr")))
    if not files:
        raise SystemExit(f"error: {sources}: no .exr")
    images = [read_rgb(f) for f in files]
    for side in sides:
        rng = np.random.default_rng(seed)
        shares, levels, depths, with_clip = [], [], [], 0
        for _ in range(count):
            im = images[rng.integers(len(images))]
            h, w, _ = im.shape
            y, x = rng.integers(h - patch + 1), rng.integers(w - patch + 1)
            crop = im[y:y + patch, x:x + patch]
            if side == 0:
                ref = crop
            else:
                wy, wx = min(side, h), min(side, w)
                y0 = min(max(y + patch // 2 - wy // 2, 0), h - wy)
                x0 = min(max(x + patch // 2 - wx // 2, 0), w - wx)
                step = max(1, side // 96)
                ref = im[y0:y0 + wy:step, x0:x0 + wx:step]
            m = np.median(0.2126 * ref[..., 0] + 0.7152 * ref[..., 1] + 0.0722 * ref[..., 2])
            if m <= 0:
                continue
            t = crop * (0.18 / m)
            clipped = t.max(-1) >= 1.0
            shares.append(clipped.mean())
            if clipped.any():
                with_clip += 1
                levels.append(np.log2(np.maximum(t.mean(-1)[clipped], 1e-6)))
                depths.append(depth(clipped)[clipped])
        summarize(f"{sources}, {count} patches of {patch}, exposed by "
                  + ("the patch" if side == 0 else f"a {side}-pixel window"), count, with_clip, shares, levels, depths)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="*", help="paired sets (input/ and target/)")
    ap.add_argument("--clip-level", type=float, default=1.0)
    ap.add_argument("--sources", help="clean sources for the window emulation")
    ap.add_argument("--windows", type=int, nargs="+", default=[0, 128, 192, 256, 384],
                    help="window sides (0: the patch itself)")
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    for root in a.sets:
        pairs(root, a.clip_level)
    if a.sources:
        windows(a.sources, a.windows, a.patch, a.count, a.seed)


if __name__ == "__main__":
    main()
