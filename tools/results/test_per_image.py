"""Tests of tools/results/per_image.py's summary (make test runs them; no hdrpatch needed)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import per_image  # noqa: E402


class SummarizeTests(unittest.TestCase):
    def test_means_spreads_and_marked_differences(self):
        a = [{"x.exr": 1.0, "y.exr": 5.0}, {"x.exr": 1.2, "y.exr": 6.0}, {"x.exr": 1.1, "y.exr": 7.0}]
        b = [{"x.exr": 1.5, "y.exr": 5.5}, {"x.exr": 1.6, "y.exr": 7.5}, {"x.exr": 1.4, "y.exr": 6.0}]
        images, rows = per_image.summarize([("a", a), ("b", b)])
        self.assertEqual(images, ["x.exr", "y.exr"])
        self.assertEqual([r[0] for r in rows], ["x.exr", "y.exr", "mean"])
        (ma, sa), (mb, sb) = rows[0][1]
        self.assertAlmostEqual(ma, 1.1)
        self.assertAlmostEqual(sa, 0.1)
        self.assertAlmostEqual(mb, 1.5)
        self.assertAlmostEqual(sb, 0.1)
        # x: +0.4 against spreads of 0.1: marked; y: +0.33 against spreads of 1.0 and 1.04: not.
        (dx, markx), = rows[0][2]
        (dy, marky), = rows[1][2]
        self.assertAlmostEqual(dx, 0.4)
        self.assertTrue(markx)
        self.assertAlmostEqual(dy, 1.0 / 3.0)
        self.assertFalse(marky)
        # The mean row is over each run's mean of its images.
        (mm, _), _ = rows[2][1]
        self.assertAlmostEqual(mm, (3.0 + 3.6 + 4.05) / 3)

    def test_one_run_has_no_spread_and_marks_nothing(self):
        _, rows = per_image.summarize([("a", [{"x.exr": 1.0}]), ("b", [{"x.exr": 2.0}])])
        self.assertIsNone(rows[0][1][0][1])
        self.assertEqual(rows[0][2], [(1.0, False)])

    def test_runs_of_other_images_are_refused(self):
        with self.assertRaises(ValueError):
            per_image.summarize([("a", [{"x.exr": 1.0}]), ("b", [{"z.exr": 2.0}])])


class GainsTests(unittest.TestCase):
    RESULT = {"images": [
        {"name": "a.exr", "model": {"psnr_mu": 30.0, "psnr_mu_clip": 25.0, "log_corr_clip": 0.4},
         "identity": {"psnr_mu": 27.5, "psnr_mu_clip": 21.0, "log_corr_clip": 0.0}},
        {"name": "b.exr", "model": {"psnr_mu": 40.0, "log_corr_clip": "nan"},
         "identity": {"psnr_mu": 39.0, "log_corr_clip": 0.0}},
    ]}

    def test_each_metric_is_the_models_value_less_the_identitys(self):
        self.assertEqual(per_image.gains(self.RESULT), {"a.exr": 2.5, "b.exr": 1.0})
        self.assertEqual(per_image.gains(self.RESULT, "psnr_mu_clip"), {"a.exr": 4.0})
        self.assertEqual(per_image.gains(self.RESULT, "log_corr_clip"), {"a.exr": 0.4})

    def test_an_image_without_a_score_is_left_out(self):
        # b.exr never clips (no in-clip PSNR) and its shape is NaN: neither is a score of 0.
        self.assertNotIn("b.exr", per_image.gains(self.RESULT, "psnr_mu_clip"))
        self.assertNotIn("b.exr", per_image.gains(self.RESULT, "log_corr_clip"))
        self.assertEqual(per_image.gains(self.RESULT, "pu21_psnr"), {})


if __name__ == "__main__":
    unittest.main()
