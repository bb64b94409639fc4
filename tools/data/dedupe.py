"""Finds the same panorama in two sets of EXRs: for every image of the first set, the three images of the second
whose high-pass log-luminance thumbnails (256 x 128, minus a 9 x 9 box blur) correlate best over every horizontal
rotation and a mirror. A duplicate scores about 1.0; different scenes stay below about 0.3.
    .venv/bin/python tools/data/dedupe.py "data/polyhaven/*.exr" "data/real/sources/*/*.exr"
(both sets 2:1 panoramas whose sides are multiples of 256 x 128)."""
import sys, glob, os, numpy as np, OpenEXR
def load(p):
    with OpenEXR.File(p, separate_channels=True) as f:
        ch = f.channels()
        x = np.stack([np.asarray(ch[c].pixels, dtype=np.float64) for c in ("R","G","B")]).mean(0)
    h, w = x.shape
    t = np.log(np.maximum(x, 1e-6)).reshape(128, h//128, 256, w//256).mean((1,3))
    # high-pass: minus a 9x9 box blur (wrap horizontally)
    k = 4
    pad = np.pad(t, ((k,k),(0,0)), mode='edge')
    blur = np.zeros_like(t)
    for dy in range(-k, k+1):
        for dx in range(-k, k+1):
            blur += np.roll(pad[k+dy:k+dy+t.shape[0]], dx, axis=1)
    d = t - blur / (2*k+1)**2
    return (d - d.mean()) / (d.std() + 1e-9)
a = {os.path.basename(p)[:-4]: load(p) for p in sorted(glob.glob(sys.argv[1]))}
b = {os.path.basename(p)[:-4]: load(p) for p in sorted(glob.glob(sys.argv[2]))}
for k, x in a.items():
    best = []
    for j, y in b.items():
        if j == k: continue
        cs = [max((x * np.roll(y, s, axis=1)).mean(), (x * np.roll(y[:, ::-1], s, axis=1)).mean()) for s in range(256)]
        best.append((max(cs), j))
    best.sort(reverse=True)
    print(f"{k:22s} " + "  ".join(f"{j}:{c:.2f}" for c, j in best[:3]))
