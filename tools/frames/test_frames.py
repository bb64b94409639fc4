"""Tests of the rendered frames and their reprojection (make test runs them with .venv's Python, in seconds).

Tiny renders (32x32 to 48x48): the reprojection of a static scene under a pure camera rotation equals the rendered
next frame away from holes within the renderer's own noise; an occluder moving across a static view opens the
hole it should; the projection is Mitsuba's own; the same seed gives the same files.
"""

import copy
import filecmp
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_frames  # noqa: E402
import render  # noqa: E402
import scenes  # noqa: E402
import warp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PANORAMA = os.path.join(ROOT, "data", "polyhaven", "empty_warehouse_01.exr")


def static_scene(seed, **camera):
    """`make_scene(seed)` with every object still and the camera's path replaced by `camera`'s keys."""
    s = scenes.make_scene(seed, PANORAMA)
    for o in s["objects"]:
        o["velocity"] = [0.0, 0.0, 0.0]
        o["spin"] = 0.0
    s["camera"].update(camera)
    return s


def log_error(a, b, mask):
    e = 1e-2
    return float(np.mean(np.abs(np.log(a + e) - np.log(b + e))[mask]))


class Projection(unittest.TestCase):
    def test_pixel_rays_are_mitsubas_and_project_back(self):
        mi = render.mitsuba()
        s = scenes.make_scene(5, PANORAMA)
        sensor = mi.load_dict(render.scene_dict(s, 3, 40, 30, 4, 1)).sensors()[0]
        origin, dirs = render.pixel_rays(s, 3, 40, 30)
        for x, y in [(0, 0), (39, 0), (0, 29), (17, 11), (39, 29)]:
            ray, _ = sensor.sample_ray(0.0, 0.5, mi.Point2f((x + 0.5) / 40, (y + 0.5) / 30), mi.Point2f(0.5, 0.5))
            np.testing.assert_allclose(np.array(ray.d).ravel(), dirs[y, x], atol=2e-6)
            # Mitsuba starts its rays on the near plane (0.01 m ahead): the same line.
            np.testing.assert_allclose(np.cross(np.array(ray.o).ravel() - origin, dirs[y, x]), 0, atol=1e-5)
        px, py, dist = render.project(s, 3, origin + dirs * 2.5, 40, 30)
        np.testing.assert_allclose(px, np.broadcast_to(np.arange(40), (30, 40)), atol=1e-9)
        np.testing.assert_allclose(py, np.broadcast_to(np.arange(30)[:, None], (30, 40)), atol=1e-9)
        np.testing.assert_allclose(dist, 2.5, atol=1e-12)

    def test_a_frame_warped_to_itself_is_itself(self):
        s = scenes.make_scene(9, PANORAMA)
        rgb, dist, body, _ = render.render_frame(s, 2, 32, 32, 4)
        warped, hole = warp.warp(rgb, dist, body, s, 2, 2, dist, body)
        self.assertFalse(hole.any())
        np.testing.assert_allclose(warped, rgb, rtol=1e-5, atol=1e-6)


class Reprojection(unittest.TestCase):
    def test_pure_rotation_matches_the_next_frame_within_the_noise(self):
        # The camera stays put and turns (arc and dolly 0, the aim drifts): no parallax, and every surface is seen
        # from the same point, so even glossy shading does not change. Only the view's edge opens holes.
        s = static_scene(21, arc=0.0, dolly=0.0, aim_drift=[0.15, 0.05, -0.1])
        # Plain albedos: a texture's detail between pixel centres is what no resampling can recover at 48x48.
        flat = np.full((4, 4, 3), 0.4, np.float32)
        s["ground"]["texture"] = flat
        for o in s["objects"]:
            if "texture" in o["material"]:
                o["material"]["texture"] = flat * np.float32(o["material"]["texture"].mean(axis=(0, 1)) / 0.4)
        size, spp = 48, 256
        rgb0, d0, b0, _ = render.render_frame(s, 0, size, size, spp)
        rgb1, d1, b1, _ = render.render_frame(s, 1, size, size, spp)
        again, _, _, _ = render.render_frame(s, 1, size, size, spp, noise_seed=1)
        warped, hole = warp.warp(rgb0, d0, b0, s, 0, 1, d1, b1)
        self.assertGreater(hole.mean(), 0.005, "the turn must move some of the view out of frame 0")
        self.assertLess(hole.mean(), 0.25)
        # Away from holes and from silhouettes (pixels whose 3x3 neighbourhood sees one body only: a pixel that
        # mixes two surfaces cannot be resampled from its neighbours), on surfaces (the sky panorama's detail is
        # finer than a pixel): the warped frame 0 is frame 1 within the noise of two renders of frame 1.
        pad = np.pad(b1, 1, mode="edge")
        one_body = np.all([pad[1 + dy:1 + dy + size, 1 + dx:1 + dx + size] == b1
                           for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
        inner = ~hole & one_body & (b1 >= 0)
        self.assertGreater(inner.mean(), 0.3)
        noise = log_error(rgb1, again, inner)
        err = log_error(warped, rgb1, inner)
        moved = log_error(rgb0, rgb1, ~hole)
        whole = log_error(warped, rgb1, ~hole)
        self.assertLess(err, 1.2 * noise, f"warp error {err:.4f}, noise {noise:.4f}")
        # Everywhere away from holes (silhouettes and sky included): far below the unwarped frame's error.
        self.assertLess(whole, 0.5 * moved, f"warp error {whole:.4f}, unwarped {moved:.4f}")

    def test_a_moving_occluder_opens_the_hole_it_should(self):
        # A still camera looking at a sphere that moves 0.35 m to the side between the frames: the ground and
        # sky it uncovers are holes, and nothing else is (away from its rim).
        s = static_scene(4, arc=0.0, dolly=0.0, aim_drift=[0.0, 0.0, 0.0], fov=50.0)
        origin, _, _ = scenes.camera_pose(s, 0)
        towards = np.array([-origin[0], 0.0, -origin[2]])
        towards /= np.linalg.norm(towards)
        centre = origin + towards * 3.0
        centre[1] = 1.0
        ball = {"id": "object0", "shape": "sphere", "size": 0.6, "position": centre.tolist(),
                "yaw": 0.0, "material": {"kind": "diffuse", "texture": scenes.texture(np.random.default_rng(1))},
                "velocity": (0.35 * np.cross(towards, [0, 1, 0])).tolist(), "spin": 0.0}
        s["objects"] = [ball]
        s["camera"]["aim"] = ball["position"]
        size = 48
        rgb0, d0, b0, _ = render.render_frame(s, 0, size, size, 16)
        _, d1, b1, _ = render.render_frame(s, 1, size, size, 16)
        _, hole = warp.warp(rgb0, d0, b0, s, 0, 1, d1, b1)
        uncovered = (b0 == 1) & (b1 != 1)
        self.assertGreater(uncovered.sum(), 40, "the sphere must uncover a region")

        def grow(m):
            p = np.pad(m, 1)
            return np.any([p[1 + dy:1 + dy + size, 1 + dx:1 + dx + size] for dy in (-1, 0, 1) for dx in (-1, 0, 1)],
                          axis=0)

        def shrink(m):
            return ~grow(~m)

        # Every pixel of the uncovered region's inside is a hole; its one-pixel rim may read a visible neighbour.
        self.assertTrue(hole[shrink(uncovered)].all())
        self.assertGreater(hole[uncovered].mean(), 0.6)
        # No hole away from the uncovered region and the sphere's own silhouette rim (newly seen sphere surface).
        allowed = grow(uncovered) | grow((b1 == 1) & ~shrink(b1 == 1))
        self.assertFalse(hole[~allowed].any(), f"{int(hole[~allowed].sum())} unexpected hole pixels")

    def test_fill_takes_the_nearest_valid_pixels(self):
        img = np.zeros((5, 9, 3), np.float32)
        img[:, :3] = 1.0
        img[:, 6:] = 3.0
        hole = np.zeros((5, 9), bool)
        hole[:, 3:6] = True
        out = warp.fill_holes(img, hole)
        np.testing.assert_array_equal(out[:, 3], 1.0)
        np.testing.assert_array_equal(out[:, 5], 3.0)
        np.testing.assert_allclose(out[:, 4], 2.0)  # equidistant: the mean of both sides
        np.testing.assert_array_equal(out[~hole], img[~hole])


class Determinism(unittest.TestCase):
    def test_the_same_seed_writes_the_same_files(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            polyhaven = os.path.join(ROOT, "data", "polyhaven")
            args = dict(count=1, size=32, spp=8, frames=3, polyhaven=polyhaven, log=lambda s: None)
            pa = make_frames.make_split("test", out=a, **args)
            pb = make_frames.make_split("test", out=b, **args)
            self.assertEqual(pa, pb)
            self.assertEqual(len(pa), 2)
            for sub in ("input", "target", "mask"):
                names = sorted(os.listdir(os.path.join(a, "test", sub)))
                self.assertEqual(names, ["000_00.exr", "000_01.exr"])
                match, mismatch, errors = filecmp.cmpfiles(os.path.join(a, "test", sub), os.path.join(b, "test", sub),
                                                           names, shallow=False)
                self.assertEqual((mismatch, errors), ([], []), sub)
        # Another seed is another scene.
        s0 = scenes.make_scene(0, PANORAMA)
        s1 = scenes.make_scene(1, PANORAMA)
        self.assertNotEqual(s0["camera"], s1["camera"])
        self.assertEqual(copy.deepcopy(s0)["camera"], scenes.make_scene(0, PANORAMA)["camera"])


if __name__ == "__main__":
    unittest.main()
