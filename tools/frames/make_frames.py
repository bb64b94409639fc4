#!/usr/bin/env python3
"""`make frames`: rendered HDR frame sequences and their reprojection pairs for the `frames` task.

Every sequence is one procedural scene (scenes.py) under one of the committed Poly Haven panoramas
(data/polyhaven), rendered frame by frame with Mitsuba 3 (render.py); each consecutive pair (t, t + 1) becomes a
training pair (warp.py):
    input/NAME.exr   frame t warped into frame t + 1's view, holes filled from the nearest valid pixel
    target/NAME.exr  frame t + 1 as rendered
    mask/NAME.exr    1 where frame t had no view of the surface (disocclusion or outside its view), else 0 (Y)
    manifest.json    per pair: sequence, scene seed, panorama, frames, hole fraction, moving objects; per
                     sequence: the camera path and exposure
The splits use disjoint panoramas and scene seeds: validation and test scenes are never seen in training.
Each sequence is exposed once (its first frame's median luminance to 0.18), so every frame of it shares one
scale, as a real renderer's frames do. Deterministic: the same arguments give the same files.
"""

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import render  # noqa: E402
import scenes  # noqa: E402
import warp  # noqa: E402

# Panoramas per split (of data/polyhaven's CC0 1k panoramas, the eleven it first held): disjoint, each split with
# day and interior light. Named, so panoramas committed later for data/real do not change the frames.
SPLITS = {
    "train": [
        "adams_place_bridge", "dikhololo_night", "empty_warehouse_01", "forest_slope", "immenstadter_horn",
        "rooitou_park", "studio_small_03",
    ],
    "val": ["kiara_1_dawn", "potsdamer_platz"],
    "test": ["lebombo", "st_fagans_interior"],
}
SEED_BASE = {"train": 0, "val": 100000, "test": 200000}


def panoramas(split, root):
    return [os.path.join(root, n + ".exr") for n in SPLITS[split]]


def write_exr(path, img):
    """Float32 ZIP EXR: RGB for (H, W, 3), Y for (H, W). Written to a temporary name, then renamed."""
    import OpenEXR

    if img.ndim == 2:
        channels = {"Y": np.ascontiguousarray(img, dtype=np.float32)}
    else:
        channels = {"RGB": np.ascontiguousarray(img, dtype=np.float32)}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    tmp = path + ".tmp.exr"
    with OpenEXR.File(header, channels) as f:
        f.write(tmp)
    os.replace(tmp, path)


def luminance(rgb):
    return 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]


def render_sequence(scene, size, spp):
    """Every frame of `scene`: (rgb, distance, body) per frame, rgb exposed so frame 0's median luminance is 0.18."""
    frames = [render.render_frame(scene, f, size, size, spp)[:3] for f in range(scene["frames"])]
    med = float(np.median(luminance(frames[0][0])))
    scale = 0.18 / med if med > 0 else 1.0
    return [(rgb * np.float32(scale), d, b) for rgb, d, b in frames], scale


def sequence_pairs(scene, frames):
    """(input, target, hole) per consecutive pair of `frames`."""
    out = []
    for t in range(len(frames) - 1):
        rgb0, d0, b0 = frames[t]
        rgb1, d1, b1 = frames[t + 1]
        warped, hole = warp.warp(rgb0, d0, b0, scene, t, t + 1, d1, b1)
        out.append((warped, rgb1, hole))
    return out


def scene_summary(scene):
    """What the manifest keeps of a scene (no textures)."""
    objs = [{"id": o["id"], "shape": o["shape"], "material": o["material"]["kind"],
             "moving": bool(any(o["velocity"]) or o["spin"])} for o in scene["objects"]]
    return {"seed": scene["seed"], "environment": os.path.basename(scene["environment"]["path"]),
            "environment_rotation": scene["environment"]["rotation"], "camera": scene["camera"],
            "objects": objs, "area_lights": len(scene["lights"])}


def up_to_date(root, count, size, spp, frames):
    """Whether `root` already holds this split as these arguments would make it (same renderer and settings)."""
    try:
        with open(os.path.join(root, "manifest.json")) as f:
            m = json.load(f)
    except (OSError, ValueError):
        return False
    return (m.get("generator") == GENERATOR and m.get("size") == size and m.get("spp") == spp
            and m.get("frames_per_sequence") == frames and len(m.get("sequences", [])) == count)


# Bump when the scenes, the renderer settings or the warp change: make frames then renders again.
GENERATOR = 1


def make_split(split, count, out, size, spp, frames, polyhaven, log):
    envs = panoramas(split, polyhaven)
    root = os.path.join(out, split)
    tmp = root + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ("input", "target", "mask"):
        os.makedirs(os.path.join(tmp, sub))
    pairs = []
    sequences = []
    for s in range(count):
        seed = SEED_BASE[split] + s
        scene = scenes.make_scene(seed, envs[s % len(envs)], frames=frames)
        start = time.time()
        rendered, scale = render_sequence(scene, size, spp)
        summary = scene_summary(scene)
        summary["sequence"] = s
        summary["exposure_scale"] = scale
        sequences.append(summary)
        holes = []
        for t, (inp, tgt, hole) in enumerate(sequence_pairs(scene, rendered)):
            name = f"{s:03d}_{t:02d}.exr"
            write_exr(os.path.join(tmp, "input", name), inp)
            write_exr(os.path.join(tmp, "target", name), tgt)
            write_exr(os.path.join(tmp, "mask", name), hole.astype(np.float32))
            frac = float(hole.mean())
            holes.append(frac)
            pairs.append({"id": os.path.splitext(name)[0], "file": name, "sequence": s, "scene_seed": seed,
                          "environment": summary["environment"], "frame": t, "target_frame": t + 1,
                          "hole_fraction": round(frac, 6),
                          "moving_objects": [o["id"] for o in summary["objects"] if o["moving"]]})
        log(f"frames: {split} sequence {s + 1}/{count} (seed {seed}, {summary['environment']}): {frames} frames in "
            f"{time.time() - start:.1f} s, holes {100 * np.mean(holes):.1f}% of pixels")
    manifest = {"generator": GENERATOR,
                "renderer": "mitsuba " + _mitsuba_version() + " llvm_ad_rgb, path tracer (max depth 6), box filter",
                "size": size, "spp": spp, "frames_per_sequence": frames, "split": split,
                "panoramas": [os.path.basename(e) for e in envs], "sequences": sequences, "pairs": pairs}
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    shutil.rmtree(root, ignore_errors=True)
    os.replace(tmp, root)
    return pairs


def read_exr(path):
    import OpenEXR

    with OpenEXR.File(path) as f:
        ch = f.channels()
        return np.array(ch["RGB"].pixels if "RGB" in ch else ch["Y"].pixels, dtype=np.float32)


def preview(root, names, path):
    """A PNG contact sheet of the pairs `names` of the split at `root`: per row the warped frame t (the input),
    the rendered frame t + 1 (the target), the holes (white) and |log error| of the input (white: one stop or
    more), tone-mapped x / (1 + x) after scaling the median luminance to 0.25. Written with Mitsuba's Bitmap."""
    mi = render.mitsuba()
    rows = []
    for name in names:
        inp = read_exr(os.path.join(root, "input", name))
        tgt = read_exr(os.path.join(root, "target", name))
        hole = read_exr(os.path.join(root, "mask", name))
        k = 0.25 / max(float(np.median(luminance(tgt))), 1e-6)

        def tone(x):
            x = np.maximum(x * k, 0)
            return x / (1 + x)

        err = np.abs(np.log2(inp + 1e-2) - np.log2(tgt + 1e-2)).mean(-1)
        grey = lambda a: np.repeat(np.clip(a, 0, 1)[..., None], 3, -1)  # noqa: E731
        rows.append(np.concatenate([tone(inp), tone(tgt), grey(hole), grey(err)], 1))
    sheet = np.ascontiguousarray(np.concatenate(rows, 0), dtype=np.float32)
    bmp = mi.Bitmap(sheet, mi.Bitmap.PixelFormat.RGB)
    bmp.convert(mi.Bitmap.PixelFormat.RGB, mi.Struct.Type.UInt8, srgb_gamma=True).write(path)


def _mitsuba_version():
    import mitsuba

    return mitsuba.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="data/frames")
    ap.add_argument("--polyhaven", default="data/polyhaven")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--spp", type=int, default=256)
    ap.add_argument("--frames", type=int, default=8, help="frames per sequence (frames - 1 pairs)")
    ap.add_argument("--train", type=int, default=36, help="training sequences")
    ap.add_argument("--val", type=int, default=6)
    ap.add_argument("--test", type=int, default=6)
    ap.add_argument("--force", action="store_true", help="render again even where a split is up to date")
    ap.add_argument("--preview", nargs="+", metavar=("PNG", "SPLIT/NAME"),
                    help="render nothing: write a PNG contact sheet of these pairs of --out (e.g. val/001_03.exr)")
    a = ap.parse_args()
    if a.preview:
        png, pairs = a.preview[0], a.preview[1:]
        splits = {p.split("/")[0] for p in pairs}
        if len(splits) != 1 or not pairs:
            sys.exit("error: --preview PNG SPLIT/NAME ...: name one split's pairs, e.g. val/001_03.exr val/002_05.exr")
        preview(os.path.join(a.out, splits.pop()), [p.split("/", 1)[1] for p in pairs], png)
        print(f"frames: {png}")
        return
    if not os.path.isdir(a.polyhaven):
        sys.exit(f"error: {a.polyhaven}: no such directory (the committed Poly Haven panoramas)")
    render.mitsuba()
    start = time.time()
    total = 0
    for split, count in (("train", a.train), ("val", a.val), ("test", a.test)):
        if count <= 0:
            continue
        if not a.force and up_to_date(os.path.join(a.out, split), count, a.size, a.spp, a.frames):
            print(f"frames: {os.path.join(a.out, split)} is up to date (--force renders it again)")
            continue
        total += len(make_split(split, count, a.out, a.size, a.spp, a.frames, a.polyhaven,
                                lambda s: print(s, flush=True)))
    print(f"frames: {total} new pairs of {a.size}x{a.size} in {a.out} in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
