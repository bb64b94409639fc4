"""Procedural scenes for `make frames`: a pure function of (seed, environment) to a plain description.

A scene is a ground plane with a procedural texture, 6-10 objects (boxes, spheres, cylinders) with diffuse,
glossy-plastic, metal and emissive materials, 0-2 rectangular area lights, a sky (a real HDR panorama, rotated), a camera moving along a smooth path and 1-3 objects moving on their own. Nothing here imports
Mitsuba: `render.py` turns the description into Mitsuba dicts frame by frame, and `warp.py` reads the poses.

Units: metres, +y up, the ground at y = 0, objects within 3.5 m of the origin.
"""

import math

import numpy as np

# Where the camera and the moving objects are at frame f: x(f) = x0 + v f + a f^2 / 2 (per-frame units).
FRAMES_DEFAULT = 8


def _rng(seed):
    return np.random.default_rng(np.random.SeedSequence([seed, 0x6672616D]))  # "fram"


def texture(rng, size=64):
    """A tileable procedural albedo (size x size x 3, linear, in [0.03, 0.85]): checker, stripes or value noise."""
    kind = rng.choice(["checker", "stripes", "noise"])
    c0 = rng.uniform(0.05, 0.8, 3)
    c1 = rng.uniform(0.05, 0.8, 3)
    yy, xx = np.mgrid[0:size, 0:size] / size
    if kind == "checker":
        n = int(rng.integers(2, 9))
        t = ((np.floor(xx * n) + np.floor(yy * n)) % 2).astype(np.float32)
    elif kind == "stripes":
        n = int(rng.integers(3, 12))
        angle = rng.uniform(0, math.pi)
        # Whole periods along both axes keep it tileable.
        t = 0.5 + 0.5 * np.sin(2 * math.pi * n * (xx * round(math.cos(angle) * 2) + yy * round(math.sin(angle) * 2 + 1)))
    else:
        g = int(rng.integers(4, 9))
        grid = rng.uniform(0, 1, (g, g))
        gx = xx * g
        gy = yy * g
        x0 = np.floor(gx).astype(int) % g
        y0 = np.floor(gy).astype(int) % g
        fx = gx - np.floor(gx)
        fy = gy - np.floor(gy)
        fx = fx * fx * (3 - 2 * fx)
        fy = fy * fy * (3 - 2 * fy)
        x1 = (x0 + 1) % g
        y1 = (y0 + 1) % g
        t = (grid[y0, x0] * (1 - fx) + grid[y0, x1] * fx) * (1 - fy) + (grid[y1, x0] * (1 - fx) + grid[y1, x1] * fx) * fy
    t = t[..., None]
    img = c0 * (1 - t) + c1 * t
    return np.clip(img, 0.03, 0.85).astype(np.float32)


def _material(rng):
    kind = rng.choice(["diffuse", "plastic", "metal", "emissive"], p=[0.35, 0.3, 0.25, 0.1])
    if kind == "diffuse":
        return {"kind": "diffuse", "texture": texture(rng)}
    if kind == "plastic":
        return {"kind": "plastic", "texture": texture(rng), "alpha": float(rng.uniform(0.03, 0.3))}
    if kind == "metal":
        return {"kind": "metal", "material": str(rng.choice(["Al", "Au", "Cu", "Ag", "Cr"])),
                "alpha": float(rng.uniform(0.02, 0.25))}
    # A lamp: radiance 10-500 times an 18% grey lit by the sky, a warm or a cold white.
    tint = np.array([1.0, 0.85, 0.65]) if rng.uniform() < 0.5 else np.array([0.8, 0.9, 1.0])
    return {"kind": "emissive", "radiance": (tint * 10 ** rng.uniform(1.0, 2.7)).tolist()}


def _overlaps(p, r, placed):
    return any(math.hypot(p[0] - q[0], p[2] - q[2]) < r + s + 0.1 for q, s in placed)


def make_scene(seed, environment, frames=FRAMES_DEFAULT, fov=None):
    """The scene of `seed` under `environment`, the path of an equirectangular HDR panorama.

    Returns a dict: environment (path, rotation about +y), ground, objects (shape, size,
    position at frame 0, velocity and spin per frame, material), area lights, camera (fov, path), frames.
    """
    rng = _rng(seed)
    scene = {"seed": int(seed), "frames": int(frames)}
    scene["environment"] = {"path": str(environment), "rotation": float(rng.uniform(0, 360))}
    scene["ground"] = {"texture": texture(rng, 128), "tiles": float(rng.uniform(2, 8)),
                       "glossy": bool(rng.uniform() < 0.3), "alpha": float(rng.uniform(0.1, 0.3))}
    objects = []
    placed = []
    count = int(rng.integers(6, 11))
    moving = set(rng.choice(count, size=int(rng.integers(1, 4)), replace=False).tolist())
    for i in range(count):
        shape = str(rng.choice(["cube", "sphere", "cylinder"]))
        size = float(rng.uniform(0.25, 0.8))
        for _ in range(50):
            p = [float(rng.uniform(-3.5, 3.5)), 0.0, float(rng.uniform(-3.5, 3.5))]
            if not _overlaps(p, size, placed):
                break
        lift = float(rng.uniform(0, 1.2)) if rng.uniform() < 0.3 else 0.0
        p[1] = size + lift
        placed.append((p, size))
        obj = {"id": f"object{i}", "shape": shape, "size": size, "position": p,
               "yaw": float(rng.uniform(0, 360)), "material": _material(rng),
               "velocity": [0.0, 0.0, 0.0], "spin": 0.0}
        if i in moving:
            speed = float(rng.uniform(0.03, 0.1))
            heading = float(rng.uniform(0, 2 * math.pi))
            obj["velocity"] = [speed * math.cos(heading), 0.0, speed * math.sin(heading)]
            obj["spin"] = float(rng.uniform(-3, 3))
        objects.append(obj)
    scene["objects"] = objects
    lights = []
    for i in range(int(rng.integers(0, 3))):
        angle = float(rng.uniform(0, 2 * math.pi))
        lights.append({"id": f"light{i}", "position": [4.5 * math.cos(angle), float(rng.uniform(1.5, 3.5)),
                                                       4.5 * math.sin(angle)],
                       "size": [float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.3, 1.0))],
                       "radiance": float(10 ** rng.uniform(1.0, 2.5))})
    scene["lights"] = lights
    # The camera circles the centre at 4.5-7 m, 0.6-2.5 m high, 0.5-2 degrees of arc per frame, drifting in
    # and out and turning its aim a little: parallax on every object, occlusions that open and close.
    radius = float(rng.uniform(4.5, 7.0))
    start = float(rng.uniform(0, 2 * math.pi))
    arc = math.radians(float(rng.uniform(0.5, 2.0))) * (1 if rng.uniform() < 0.5 else -1)
    scene["camera"] = {
        "fov": float(fov if fov is not None else rng.uniform(45, 70)),
        "radius": radius, "start": start, "arc": arc, "height": float(rng.uniform(0.6, 2.5)),
        "dolly": float(rng.uniform(-0.04, 0.04)),
        "aim": [float(rng.uniform(-1, 1)), float(rng.uniform(0.2, 0.9)), float(rng.uniform(-1, 1))],
        "aim_drift": [float(rng.uniform(-0.02, 0.02)), 0.0, float(rng.uniform(-0.02, 0.02))],
    }
    return scene


def camera_pose(scene, frame):
    """(origin, target, up) of the camera at `frame` (a float is allowed)."""
    c = scene["camera"]
    a = c["start"] + c["arc"] * frame
    r = c["radius"] + c["dolly"] * frame
    origin = np.array([r * math.cos(a), c["height"], r * math.sin(a)])
    target = np.array(c["aim"]) + np.array(c["aim_drift"]) * frame
    return origin, target, np.array([0.0, 1.0, 0.0])


def look_at(origin, target, up):
    """The camera-to-world matrix (4x4) of Mitsuba's look_at: columns left, up, forward, origin."""
    f = target - origin
    f = f / np.linalg.norm(f)
    left = np.cross(up, f)
    left = left / np.linalg.norm(left)
    new_up = np.cross(f, left)
    m = np.eye(4)
    m[:3, 0] = left
    m[:3, 1] = new_up
    m[:3, 2] = f
    m[:3, 3] = origin
    return m


def object_matrix(obj, frame):
    """Object-to-world matrix (4x4) of `obj` at `frame`: scale, yaw (spin per frame), translation."""
    p = np.array(obj["position"]) + np.array(obj["velocity"]) * frame
    yaw = math.radians(obj["yaw"] + obj["spin"] * frame)
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    m = np.eye(4)
    m[:3, :3] = rot * obj["size"]
    m[:3, 3] = p
    return m
