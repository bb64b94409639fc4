"""Renders the frames of a `scenes.make_scene` description with Mitsuba 3 (PyPI), on the CPU.

Per frame: linear HDR RGB (path tracing, box pixel filter), and from one ray through each pixel centre the distance
to the first surface (inf where the ray leaves to the sky), which body it hit (-1 sky, 0 the static world: ground
and area lights, i + 1 object i) and the camera-to-world matrix. The variant is llvm_ad_rgb (vectorised through
LLVM; Debian's libllvm15 provides it): on this project's 2-core AMD EPYC (AVX-512), a 128x128 frame at 64 samples
per pixel took 0.51-0.53 s against scalar_rgb's 1.0 s (median of 3 after a warm-up, docs/frames.md).
"""

import math
import os

import numpy as np

from scenes import camera_pose, look_at, object_matrix

_MI = None


def mitsuba(variant="llvm_ad_rgb"):
    """Mitsuba with `variant` set (imported once)."""
    global _MI
    if _MI is None:
        import drjit as dr
        import mitsuba as mi

        if variant.startswith("llvm") and not dr.has_backend(dr.JitBackend.LLVM):
            raise SystemExit("error: Mitsuba's llvm_ad_rgb variant needs LLVM's shared library "
                             "(/usr/lib/x86_64-linux-gnu/libLLVM*.so.*, Debian's libllvm15: make setup installs it)")
        mi.set_variant(variant)
        _MI = mi
    return _MI


def _matrix(m):
    mi = mitsuba()
    return mi.ScalarTransform4f(m.tolist())


def _bsdf(material):
    mi = mitsuba()
    kind = material["kind"]
    if kind == "emissive":
        return {"type": "diffuse", "reflectance": {"type": "rgb", "value": [0.0, 0.0, 0.0]}}
    if kind == "metal":
        return {"type": "roughconductor", "material": material["material"], "alpha": material["alpha"]}
    tex = {"type": "bitmap", "bitmap": mi.Bitmap(material["texture"]), "raw": True, "filter_type": "bilinear"}
    if kind == "plastic":
        return {"type": "roughplastic", "diffuse_reflectance": tex, "alpha": material["alpha"]}
    return {"type": "diffuse", "reflectance": tex}


def _shapes(obj, frame):
    """Mitsuba shapes (key, dict) of one object at `frame`; a cylinder is a tube and two caps."""
    m = object_matrix(obj, frame)
    bsdf = _bsdf(obj["material"])
    emitter = None
    if obj["material"]["kind"] == "emissive":
        emitter = {"type": "area", "radiance": {"type": "rgb", "value": obj["material"]["radiance"]}}
    parts = []
    if obj["shape"] == "cylinder":
        # Mitsuba's cylinder runs along +z from 0 to 1: stand it on +y, centred, radius 1, height 2.
        to_y = np.array([[1, 0, 0, 0], [0, 0, 1, -1], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=float)
        stretch = np.diag([1.0, 1.0, 2.0, 1.0])
        parts.append(("tube", {"type": "cylinder", "to_world": _matrix(m @ to_y @ stretch)}))
        top = np.array([[1, 0, 0, 0], [0, 0, 1, 1], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=float)
        bottom = np.array([[1, 0, 0, 0], [0, 0, -1, -1], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float)
        parts.append(("top", {"type": "disk", "to_world": _matrix(m @ top)}))
        parts.append(("bottom", {"type": "disk", "to_world": _matrix(m @ bottom)}))
    else:
        parts.append(("body", {"type": obj["shape"], "to_world": _matrix(m)}))
    out = []
    for name, d in parts:
        d["bsdf"] = bsdf
        if emitter is not None:
            d["emitter"] = emitter
        out.append((f"{obj['id']}_{name}", d))
    return out


def scene_dict(scene, frame, width, height, spp, sampler_seed):
    """The Mitsuba scene dict of `scene` at `frame`."""
    mi = mitsuba()
    origin, target, up = camera_pose(scene, frame)
    env = scene["environment"]
    d = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": 6, "rr_depth": 4},
        "sensor": {
            "type": "perspective",
            "fov": scene["camera"]["fov"],
            "fov_axis": "x",
            "to_world": _matrix(look_at(origin, target, up)),
            "sampler": {"type": "independent", "sample_count": spp, "seed": sampler_seed},
            "film": {"type": "hdrfilm", "width": width, "height": height, "rfilter": {"type": "box"},
                     "pixel_format": "rgb"},
        },
        "sky": {"type": "envmap", "filename": env["path"],
                "to_world": mi.ScalarTransform4f().rotate([0, 1, 0], env["rotation"])},
    }
    g = scene["ground"]
    tex = {"type": "bitmap", "bitmap": mi.Bitmap(g["texture"]), "raw": True, "filter_type": "bilinear",
           "to_uv": mi.ScalarTransform4f().scale([g["tiles"] * 2, g["tiles"] * 2, 1])}
    ground_bsdf = ({"type": "roughplastic", "diffuse_reflectance": tex, "alpha": g["alpha"]} if g["glossy"]
                   else {"type": "diffuse", "reflectance": tex})
    d["world_ground"] = {"type": "rectangle", "bsdf": ground_bsdf,
                         "to_world": mi.ScalarTransform4f().rotate([1, 0, 0], -90).scale([20, 20, 1])}
    for light in scene["lights"]:
        p = np.array(light["position"])
        # Facing the centre of the scene, a little downwards.
        m = look_at(p, np.array([0.0, 0.5, 0.0]), np.array([0.0, 1.0, 0.0])) @ np.diag(
            [light["size"][0], light["size"][1], 1, 1])
        d[f"world_{light['id']}"] = {
            "type": "rectangle", "to_world": _matrix(m),
            "emitter": {"type": "area", "radiance": {"type": "rgb", "value": light["radiance"]}},
            "bsdf": {"type": "diffuse", "reflectance": {"type": "rgb", "value": [0.0, 0.0, 0.0]}}}
    for obj in scene["objects"]:
        for key, shape in _shapes(obj, frame):
            d[key] = shape
    return d


def pixel_rays(scene, frame, width, height):
    """Origin (3,) and unit directions (H, W, 3) through the pixel centres of the camera at `frame`."""
    origin, target, up = camera_pose(scene, frame)
    m = look_at(origin, target, up)
    t = math.tan(math.radians(scene["camera"]["fov"]) / 2)
    xs = (np.arange(width) + 0.5) / width
    ys = (np.arange(height) + 0.5) / height
    # Mitsuba's perspective camera: camera +x is image left, +y image up, +z forward; fov along x.
    cx = (0.5 - xs) * 2 * t
    cy = (0.5 - ys) * 2 * t * height / width
    dirs = np.stack(np.broadcast_arrays(cx[None, :], cy[:, None], np.ones((height, width))), -1)
    dirs = dirs @ m[:3, :3].T
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    return origin, dirs


def project(scene, frame, points, width, height):
    """Continuous pixel coordinates (x, y; pixel centres at integers) and distances of world `points` (..., 3) in
    the camera at `frame`; points behind the camera get nan coordinates."""
    origin, target, up = camera_pose(scene, frame)
    m = look_at(origin, target, up)
    rel = points - origin
    cam = rel @ m[:3, :3]  # world -> camera (the rotation's transpose)
    t = math.tan(math.radians(scene["camera"]["fov"]) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(cam[..., 2] > 1e-6, cam[..., 2], np.nan)
        u = 0.5 - cam[..., 0] / (z * 2 * t)
        v = 0.5 - cam[..., 1] / (z * 2 * t * height / width)
    return u * width - 0.5, v * height - 0.5, np.linalg.norm(rel, axis=-1)


def geometry(mscene, scene, frame, width, height):
    """Distance along each pixel-centre ray (inf: sky) and the body it hit (-1 sky, 0 static world, i + 1 object i)."""
    mi = mitsuba()
    import drjit as dr

    origin, dirs = pixel_rays(scene, frame, width, height)
    n = width * height
    flat = dirs.reshape(-1, 3).astype(np.float32)
    o = np.broadcast_to(origin.astype(np.float32), (n, 3))
    ray = mi.Ray3f(mi.Point3f(o[:, 0], o[:, 1], o[:, 2]), mi.Vector3f(flat[:, 0], flat[:, 1], flat[:, 2]))
    si = mscene.ray_intersect(ray)
    dist = np.array(si.t, dtype=np.float64)
    valid = np.array(si.is_valid(), dtype=bool)
    dist[~valid] = np.inf
    hit = np.array(dr.reinterpret_array(mi.UInt32, si.shape), dtype=np.int64)
    body = np.full(n, -1, dtype=np.int32)
    index = {o["id"]: i + 1 for i, o in enumerate(scene["objects"])}
    for shape in mscene.shapes():
        ptr = int(np.array(dr.reinterpret_array(mi.UInt32, mi.ShapePtr(shape)))[0])
        sid = shape.id()
        b = 0 if sid.startswith("world_") else index[sid.rsplit("_", 1)[0]]
        body[(hit == ptr) & valid] = b
    return dist.reshape(height, width), body.reshape(height, width)


def render_frame(scene, frame, width, height, spp, noise_seed=0):
    """(rgb (H, W, 3) float32 linear, distance (H, W), body (H, W) int32, camera-to-world (4, 4)) at `frame`.
    The sampler's seed is a function of the scene's seed, the frame and `noise_seed` (another value renders the
    same image with independent Monte Carlo noise): the same call gives the same bytes."""
    mi = mitsuba()
    seed = (scene["seed"] * 1009 + frame * 7919 + noise_seed * 104729) % (2**31 - 1)
    mscene = mi.load_dict(scene_dict(scene, frame, width, height, spp, seed))
    rgb = np.array(mi.render(mscene, spp=spp, seed=seed), dtype=np.float32)[..., :3]
    dist, body = geometry(mscene, scene, frame, width, height)
    origin, target, up = camera_pose(scene, frame)
    return rgb, dist, body, look_at(origin, target, up)


def body_matrices(scene, frame):
    """Object-to-world matrix per body at `frame`: index 0 the static world (identity), i + 1 object i."""
    return [np.eye(4)] + [object_matrix(o, frame) for o in scene["objects"]]


def threads():
    return int(os.environ.get("FRAMES_THREADS", "0")) or os.cpu_count()
