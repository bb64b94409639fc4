#!/usr/bin/env python3
"""Reads a TensorBoard event file written by hdrpatch with TensorBoard's own readers (never run by CI).

Checks the file two ways and prints what it finds:
  1. tensorboard's EventFileLoader: every record's framing and CRCs, parsed as an Event proto.
  2. tensorboard's EventAccumulator: the scalars TensorBoard would plot (tag, step, value).
Setup (no TensorFlow needed):  python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboard
Usage:  /tmp/tbvenv/bin/python tools/tb/read_events.py FILE_OR_RUN_DIR...
A run directory reads every event file in it, then what TensorBoard plots for the whole directory (several
files: each step must appear once).
Exit status 1 if any record fails to parse or the first record is not file_version "brain.Event:2".
"""
import os
import sys

from tensorboard.backend.event_processing import event_accumulator, event_file_loader
from tensorboard.compat.proto import event_pb2


def main(args):
    ok = True
    for arg in args:
        if os.path.isdir(arg):
            files = sorted(os.path.join(arg, n) for n in os.listdir(arg) if "tfevents" in n)
            ok = read_files(files) and ok
            print(f"== directory {arg}")
            ok = print_scalars(arg) and ok
        else:
            ok = read_files([arg]) and ok
    return 0 if ok else 1


def read_files(paths):
    ok = True
    for path in paths:
        print(f"== {path}")
        events = list(event_file_loader.RawEventFileLoader(path).Load())
        parsed = []
        for raw in events:
            e = event_pb2.Event()
            e.ParseFromString(raw)
            parsed.append(e)
        print(f"records: {len(parsed)}")
        if not parsed or parsed[0].file_version != "brain.Event:2":
            print("FAIL: first record is not file_version brain.Event:2")
            ok = False
        for e in parsed:
            values = ", ".join(f"{v.tag}={v.simple_value!r}" for v in e.summary.value)
            what = f"file_version={e.file_version!r}" if e.file_version else values
            print(f"  wall_time={e.wall_time:.3f} step={e.step} {what}")
        ok = print_scalars(path) and ok
    return ok


def print_scalars(path):
    """What TensorBoard's Python backend plots for a file or directory; False if a step repeats for a tag."""
    acc = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    ok = True
    for tag in sorted(acc.Tags()["scalars"]):
        points = [(s.step, s.value) for s in acc.Scalars(tag)]
        print(f"  scalars[{tag}] = {points}")
        steps = [p[0] for p in points]
        if len(steps) != len(set(steps)):
            print(f"FAIL: {tag} repeats a step")
            ok = False
    return ok


if __name__ == "__main__":
    if len(sys.argv) < 2 or not all(os.path.exists(p) for p in sys.argv[1:]):
        print(__doc__.strip().splitlines()[0])
        print("usage: read_events.py FILE_OR_RUN_DIR...", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
