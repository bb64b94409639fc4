"""onnxruntime's restore throughput on an exported model and an EXR image, at each thread count: the ONNX side of
`make bench` (hdrpatch bench --what restore --onnx M --image-out IMG writes both).

usage: bench_onnx.py --model M.onnx --image IMG.exr [--threads 1 2] [--runs 5] [--json]
One session per thread count (intra_op_num_threads T, inter_op 1, sequential, every graph optimisation), one warm-up
run, then the median of --runs runs of the whole image as one (1, 3, H, W) input. Rows are named like hdrpatch's
("restore one pass") so tools/onnx/compare_bench.py can pair them."""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort
import OpenEXR


def read_rgb(path):
    """(1, 3, H, W) float32 planar from an EXR's R, G, B channels (the PyPI OpenEXR reader)."""
    with OpenEXR.File(path, separate_channels=True) as f:
        ch = f.channels()
        planes = [np.asarray(ch[c].pixels, dtype=np.float32) for c in ("R", "G", "B")]
    return np.stack(planes)[None]


def session(model, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    x = read_rgb(a.image)
    mpx = x.shape[2] * x.shape[3] / 1e6
    rows = []
    for t in a.threads:
        s = session(a.model, t)
        name = s.get_inputs()[0].name
        s.run(None, {name: x})
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            s.run(None, {name: x})
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        med = times[len(times) // 2]
        rows.append({"name": "restore one pass", "threads": t, "median_ms": med, "min_ms": times[0],
                     "max_ms": times[-1], "per_second": mpx / (med / 1e3), "unit": "Mpx/s"})
    if a.json:
        print(json.dumps({"what": "restore", "runtime": f"onnxruntime {ort.__version__}",
                          "image": f"{x.shape[3]} x {x.shape[2]}", "rows": rows}))
    else:
        for r in rows:
            print(f"onnxruntime {ort.__version__} restore one pass, {x.shape[3]} x {x.shape[2]}, {r['threads']} "
                  f"thread(s): {r['median_ms']:.1f} ms median, {r['per_second']:.2f} Mpx/s")


if __name__ == "__main__":
    main()
