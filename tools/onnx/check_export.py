"""Checks exported hdrpatch ONNX models with the ONNX reference tools, independently of hdrpatch: onnx.checker
(full check, with shape inference), then onnxruntime on EXR images against `hdrpatch restore`'s output of the same
images (both EXRs read with the PyPI OpenEXR reader), and the onnx package's reference evaluator (the operators as
the ONNX specification defines them, in numpy: a second runtime, so that a graph onnxruntime merely tolerates is
caught) on the images of at most REFERENCE_MAX_PIXELS pixels.

usage: check_export.py MANIFEST.json   (prints one JSON object on stdout)

MANIFEST: {"cases": [{"name": str, "onnx": path, "eps": float, "clamp": float or null,
                      "pairs": [[input.exr, restored.exr], ...],   # restored: hdrpatch restore, float EXR
                      "batches": [[i, j, ...], ...]}]}             # pairs of one size, run as one (N, 3, H, W) batch
Per case: checker result, opset, IR version, op types, metadata, the graph's input and output shapes, and for every
pair and batch the errors against hdrpatch: max_rel = max |onnx - hdrpatch| / (|hdrpatch| + eps), i.e. relative to
output + eps = exp(log_image + delta), what the graph computes before its final subtraction; max_rel_plain =
max |onnx - hdrpatch| / |hdrpatch| over values with |hdrpatch| >= 1e-3; max_abs; max_abs_delta = the largest
|log(out + eps) - log(x + eps)| (the residual, recovered); clamped = fraction of values whose residual sits at the
clamp (|delta| >= clamp * (1 - 1e-4)); "reference": max_rel of the reference evaluator's output per small image."""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import OpenEXR
from onnx.reference import ReferenceEvaluator

# The reference evaluator is plain numpy (about 0.05 s for a 45 x 37 image through a small network): small images only.
REFERENCE_MAX_PIXELS = 64 * 64


def read_rgb(path, clamp_negative=False):
    """(3, H, W) float32 from an EXR's R, G, B; with clamp_negative, negatives set to 0 as hdrpatch's reader does
    for its inputs."""
    with OpenEXR.File(path, separate_channels=True) as f:
        ch = f.channels()
        planes = np.stack([np.asarray(ch[c].pixels, dtype=np.float32) for c in ("R", "G", "B")])
    return np.maximum(planes, 0).astype(np.float32) if clamp_negative else planes


def errors(out, ref, x, eps, clamp):
    out64, ref64 = out.astype(np.float64), ref.astype(np.float64)
    diff = np.abs(out64 - ref64)
    big = np.abs(ref64) >= 1e-3
    result = {
        "max_rel": float((diff / (np.abs(ref64) + eps)).max()),
        "max_rel_plain": float((diff[big] / np.abs(ref64[big])).max()) if big.any() else 0.0,
        "max_abs": float(diff.max()),
        "finite": bool(np.isfinite(out).all()),
    }
    delta = np.log(out64 + eps) - np.log(x.astype(np.float64) + eps)
    result["max_abs_delta"] = float(np.abs(delta).max())
    if clamp is not None:
        result["clamped"] = float((np.abs(delta) >= clamp * (1 - 1e-4)).mean())
    return result


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def check(case):
    model = onnx.load(case["onnx"])
    report = {"name": case["name"]}
    try:
        onnx.checker.check_model(model, full_check=True)
        report["checker"] = "ok"
    except Exception as e:  # the checker's message is the finding
        report["checker"] = f"{type(e).__name__}: {e}"
    report["opset"] = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")][0]
    report["ir_version"] = model.ir_version
    report["ops"] = sorted({n.op_type for n in model.graph.node})
    report["metadata"] = {p.key: p.value for p in model.metadata_props}
    report["inputs"] = [[v.name, dims(v)] for v in model.graph.input]
    report["outputs"] = [[v.name, dims(v)] for v in model.graph.output]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(case["onnx"], opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    images = [(read_rgb(i, clamp_negative=True), read_rgb(r)) for i, r in case["pairs"]]
    report["images"] = []
    for x, ref in images:
        out = session.run(None, {name: x[None]})[0][0]
        report["images"].append(errors(out, ref, x, case["eps"], case["clamp"]))
    reference = ReferenceEvaluator(model)
    report["reference"] = []
    for x, ref in images:
        if x.shape[1] * x.shape[2] <= REFERENCE_MAX_PIXELS:
            out = reference.run(None, {name: x[None]})[0][0]
            report["reference"].append(errors(out, ref, x, case["eps"], case["clamp"])["max_rel"])
    report["batches"] = []
    for batch in case.get("batches", []):
        xs = np.stack([images[i][0] for i in batch])
        outs = session.run(None, {name: xs})[0]
        per = [errors(outs[k], images[i][1], images[i][0], case["eps"], case["clamp"]) for k, i in enumerate(batch)]
        report["batches"].append({"max_rel": max(p["max_rel"] for p in per), "size": len(batch)})
    return report


def main():
    manifest = json.load(open(sys.argv[1]))
    print(json.dumps({"onnx": onnx.__version__, "onnxruntime": ort.__version__,
                      "cases": [check(c) for c in manifest["cases"]]}))


if __name__ == "__main__":
    main()
