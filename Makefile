# hdrpatch: every target installs what it needs on a fresh Debian machine (root, or sudo when not root).
SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev libopenexr-dev libpng-dev pkg-config python3 python3-venv libopenmpi-dev openmpi-bin slurmctld slurmd slurm-client munge libllvm15
SWIFT ?= swift
# The project-local Python environment: onnxruntime and onnx for the checks of `hdrpatch export` (make test) and
# onnxruntime's side of make bench; Mitsuba 3 for make frames and its tests. Built from Debian's python3 (python3-venv).
VENV := .venv
VENV_REQUIREMENTS := tools/onnx/requirements.txt tools/frames/requirements.txt
VENV_IMPORTS := import onnxruntime, onnx, numpy, OpenEXR, mitsuba
VENV_PYTHON := $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
export PATH := $(PATH):/opt/swift/usr/bin

.PHONY: packages setup build test train eval data data-train frames sample ablate ablate-quick bench format format-check clean help

help:
	@echo "make setup  - install missing Debian packages ($(APT_PACKAGES)) and create .venv (tools/onnx/requirements.txt)"
	@echo "              (make packages: the Debian packages and the Swift check alone, what build, data and train need)"
	@echo "make build  - release build of hdrpatch (.build/release/hdrpatch)"
	@echo "make test   - setup, check formatting, build and run every test"
	@echo "make format - format the Swift sources with swift-format (.swift-format)"
	@echo "make data   - build data/real and data/hdr_warp from Blender's CC0 HDRIs, the committed Poly Haven panoramas and"
	@echo "              ILM photographs (data/ilm: the validation set); falls back to data/sample without apt"
	@echo "              and the held-out test set data/heldout from 5 ILM photographs (psychtoolbox-3-common)"
	@echo "make frames - render HDR frame sequences with Mitsuba 3 and warp each frame into the next one's view:"
	@echo "              data/frames (train/val/test pairs with hole masks; the ablation's frames task)"
	@echo "make sample - regenerate the small committed sample set data/sample (procedural scenes)"
	@echo "make train  - packages, build, the data it reads (make data-train: data/real's sources and validation photographs,"
	@echo "              data/heldout), train configs/default.yaml, write the report (held-out test included)"
	@echo "make eval   - the latest make-train checkpoint on the held-out photographs (data/heldout/phone)"
	@echo "make bench  - training step and forward times (side by side with PyTorch when torch is importable), restore"
	@echo "              throughput side by side with onnxruntime"
	@echo "make ablate - the strategy ablation (configs/ablation.yaml: 7 variants x 3 tasks x 3 learning rates x 3 seeds, about 70 min on 2 cores, after make data and make frames); ablate-quick: the demo (1 seed, 150 steps; its phone and hdr_warp runs took about 4.5 min)"

# The Debian packages and the toolchain: what build, data and train need. The venv (setup) is for the tests, frames
# and the benchmarks beside onnxruntime only, so a fresh clone's `make train` does not create it.
packages:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" -ne 0 ] && sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing \
	    || { echo "error: could not install$$missing (need root or sudo, and apt access)"; exit 1; }; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "error: '$(SWIFT)' not found: a Swift 6 toolchain is required"; exit 1; }

setup: packages
	@$(VENV)/bin/python -c "$(VENV_IMPORTS)" 2>/dev/null || { \
	  echo "setup: creating $(VENV) with $(VENV_REQUIREMENTS) (onnxruntime, onnx, numpy, OpenEXR, mitsuba from PyPI)"; \
	  rm -rf $(VENV) && $(VENV_PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install -q --disable-pip-version-check $(addprefix -r ,$(VENV_REQUIREMENTS)) \
	    && $(VENV)/bin/python -c "$(VENV_IMPORTS)" \
	    || { echo "error: could not install $(VENV_REQUIREMENTS) into $(VENV) (needs PyPI access): make test checks hdrpatch export with onnxruntime and the frames' reprojection with Mitsuba"; exit 1; }; }

build: packages
	$(SWIFT) build -c release --product hdrpatch

test: setup format-check
	$(VENV)/bin/python -m unittest tools/frames/test_frames.py tools/results/test_per_image.py
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Rendered HDR frame sequences (Mitsuba 3, CPU) and their reprojection pairs for the ablation's frames task:
# data/frames/{train,val,test} (tools/frames/make_frames.py; 36 + 6 + 6 sequences of 8 frames, 128x128, 256 spp).
# A split already made with the same settings is kept (--force renders it again).
frames: setup
	$(VENV)/bin/python tools/frames/make_frames.py --out data/frames

format:
	$(SWIFT) format format --recursive --in-place --parallel Sources Tests Package.swift

format-check:
	SWIFT=$(SWIFT) tools/format/check.sh

data: build
	tools/data/make_data.sh .build/release/hdrpatch

# Only what make train and make eval read: the clean training sources, the validation photographs, the held-out set
# (not the stored pairs of data/real/train and data/hdr_warp, which the ablation reads).
data-train: build
	tools/data/make_data.sh .build/release/hdrpatch train

sample: build
	rm -rf data/sample
	.build/release/hdrpatch synth --from procedural --recipe configs/degrade/default.yaml --out data/sample/train --patch 64 --count 40 --seed 11
	.build/release/hdrpatch synth --from procedural --recipe configs/degrade/default.yaml --out data/sample/val --patch 64 --count 8 --seed 12

# Without the held-out set (no apt access for make data) the run trains and validates as usual and says so.
train: data-train
	@test -d data/heldout/phone || echo "train: no data/heldout/phone (make data could not fetch it): no held-out test"
	@# Then where this run's gains fall in the range docs/results/default.json documents (seeds 0-4, the machine named there).
	run=runs/default-$$(date -u +%Y%m%d-%H%M%S); \
	.build/release/hdrpatch train --config configs/default.yaml --run-dir $$run \
	  $$(test -d data/heldout/phone || echo --set data.test=null) \
	  && { test ! -f docs/results/default.json || python3 tools/results/where.py $$run docs/results/default.json; }

# The latest make-train run's best checkpoint on the held-out photographs, model vs identity: the 256x256 patches,
# then the five photographs whole (tiled, pictures into <run>/heldout-full).
eval: data-train
	@run=$$(ls -d runs/default-* 2>/dev/null | sort | tail -n 1); \
	if [ -z "$$run" ]; then echo "error: no runs/default-* (run make train first)"; exit 1; fi; \
	ck=$$run/checkpoints/best.safetensors; [ -f $$ck ] || ck=$$run/checkpoints/latest.safetensors; \
	echo "eval: $$ck on data/heldout/phone (80 patches of 256x256)"; \
	.build/release/hdrpatch evaluate --checkpoint $$ck --data data/heldout/phone && \
	echo "eval: $$ck on data/heldout/phone-full (the 5 photographs whole, tiled)" && \
	.build/release/hdrpatch evaluate --checkpoint $$ck --data data/heldout/phone-full --images $$(dirname $$(dirname $$ck))/heldout-full

ablate: data frames
	.build/release/hdrpatch ablate --config configs/ablation.yaml --jobs 2

ablate-quick: data frames
	.build/release/hdrpatch ablate --config configs/ablation.yaml --jobs 2 --quick --seeds 1

PYTHON ?= python3
BENCH_NET ?= --depth 5 --width 32
# The U-Net of the restore rows beside onnxruntime: the default's inputs, width 16, 3 levels.
UNET_MODEL = model={arch: unet, width: 16, levels: 3, inputs: [log_norm, clip_mask], clip_level: 1.0}

ALLOC_COUNTER = tools/alloc/libcount_alloc.so

$(ALLOC_COUNTER): tools/alloc/count_alloc.c
	$(or $(shell command -v cc 2>/dev/null),clang) -O2 -shared -fPIC -o $@ $<

# Timings first (no preload; direct and the default Winograd convolutions in one run), then the allocation count
# per step under the counter, the default training config's own step (times and allocations), then PyTorch side
# by side: the benchmark network, then the plain recipe's step and the U-Net default's (input planes, loss terms,
# clipping).
bench: build setup $(ALLOC_COUNTER)
	.build/release/hdrpatch bench --what step $(BENCH_NET) --threads 1 2 --conv direct auto
	LD_PRELOAD=$(CURDIR)/$(ALLOC_COUNTER) .build/release/hdrpatch bench --what step $(BENCH_NET) --threads 1 2 --steps 5 | grep allocations
	LD_PRELOAD=$(CURDIR)/$(ALLOC_COUNTER) .build/release/hdrpatch bench --what step --arch unet --threads 1 2 --steps 3 | grep allocations
	@# 256 x 256 patches on one thread take the conv stack's strips of rows (forwardInRows).
	LD_PRELOAD=$(CURDIR)/$(ALLOC_COUNTER) .build/release/hdrpatch bench --what step --depth 4 --width 16 --patch 256 --batch 2 --threads 1 --steps 3 | grep allocations
	LD_PRELOAD=$(CURDIR)/$(ALLOC_COUNTER) .build/release/hdrpatch bench --what step --config configs/plain.yaml --threads 1 2 | grep -v '^sgemm\|^OpenBLAS'
	@if $(PYTHON) -c "import torch, yaml" 2>/dev/null; then \
	  { .build/release/hdrpatch bench --what step $(BENCH_NET) --threads 1 2 --json | tr -d '\n'; echo; \
	    $(PYTHON) bench/torch_reference.py $(BENCH_NET) --threads 1 2 --json; } | $(PYTHON) bench/compare.py; \
	  { .build/release/hdrpatch bench --what step --config configs/plain.yaml --threads 1 2 --json | tr -d '\n'; echo; \
	    $(PYTHON) bench/torch_reference.py --config configs/plain.yaml --threads 1 2 --json; } | $(PYTHON) bench/compare.py; \
	  { .build/release/hdrpatch bench --what step --config configs/default.yaml --threads 1 2 --json | tr -d '\n'; echo; \
	    $(PYTHON) bench/torch_reference.py --config configs/default.yaml --threads 1 2 --json; } | $(PYTHON) bench/compare.py; \
	  $(PYTHON) bench/unet_side_by_side.py --hdrpatch .build/release/hdrpatch --runs 1; \
	else echo "(torch and pyyaml not importable with $(PYTHON): no side-by-side; e.g. make bench PYTHON=/tmp/torchvenv/bin/python)"; fi
	@# Restore throughput of the default network on a 1024 x 1024 image, then side by side with onnxruntime (.venv)
	@# on the same model (exported by the bench) and the same image, the whole image as one pass on both sides.
	mkdir -p .build/bench
	.build/release/hdrpatch bench --what restore --config configs/plain.yaml --threads 1 2 --steps 5 \
	  --onnx .build/bench/default.onnx --image-out .build/bench/restore.exr
	{ .build/release/hdrpatch bench --what restore --config configs/plain.yaml --threads 1 2 --steps 5 --tiles 0 --json | tr -d '\n'; echo; \
	  $(VENV)/bin/python tools/onnx/bench_onnx.py --model .build/bench/default.onnx --image .build/bench/restore.exr --threads 1 2 --json; } \
	  | $(VENV)/bin/python tools/onnx/compare_bench.py
	@# The U-Net (width 16, 3 levels, the default's inputs) the same way, at 256 x 256 and on a 1024 x 1024 image.
	for s in 256 1024; do \
	  .build/release/hdrpatch bench --what restore --config configs/plain.yaml --set '$(UNET_MODEL)' --threads 1 2 \
	    --steps 10 --tiles 0 --size $$s --onnx .build/bench/unet.onnx --image-out .build/bench/unet$$s.exr --json | tr -d '\n'; echo; \
	  $(VENV)/bin/python tools/onnx/bench_onnx.py --model .build/bench/unet.onnx --image .build/bench/unet$$s.exr --threads 1 2 --json; \
	done | $(VENV)/bin/python tools/onnx/compare_bench.py

clean:
	rm -rf .build
