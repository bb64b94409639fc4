#!/usr/bin/env bash
# Builds the default data set (data/real) from the CC0 world HDRIs of Debian's blender-data package:
# downloaded with apt-get download and unpacked, never installed. Split by source image: the val images
# never appear in train. Procedural scenes are added to train. Without apt access, falls back to the
# committed sample set (data/sample) and says so.
#   tools/data/make_data.sh [HDRPATCH_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-.build/release/hdrpatch}
recipe=configs/degrade/default.yaml
downloads=data/downloads
real=data/real
# Held out for validation: one indoor and one outdoor scene with strong highlights.
val_images="interior sunset"

# A set made before the training pairs were written uncompressed is rebuilt once (same pixels, faster loads).
if [ -f "$real/.complete" ] && ! grep -q "sample\|train:none" "$real/.complete"; then
    echo "data: $real predates uncompressed training pairs; rebuilding"
    rm -f "$real/.complete"
fi
# The HDR-input task (configs/degrade/hdr_warp.yaml) from the same sources and split, once data/real exists.
hdr_warp() {
    local out=data/hdr_warp
    if [ -f "$out/.complete" ]; then echo "data: $out is complete (remove it to rebuild)"; return; fi
    if [ ! -d "$real/sources/train" ]; then echo "data: no $real/sources (sample set): skipping $out"; return; fi
    rm -rf "$out"
    "$bin" synth --from "$real/sources/train" --recipe configs/degrade/hdr_warp.yaml --out "$out/train" --patch 128 \
        --count 768 --seed 11 --compression none
    "$bin" synth --from "$real/sources/val" --recipe configs/degrade/hdr_warp.yaml --out "$out/val" --full --seed 12
    echo "hdr_warp train:none" > "$out/.complete"
    echo "data: $out/train ($(ls "$out/train/input" | wc -l) pairs), $out/val ($(ls "$out/val/input" | wc -l) full images)"
}

if [ -f "$real/.complete" ]; then
    echo "data: $real is complete (remove it to rebuild)"
    hdr_warp
    exit 0
fi

mkdir -p "$downloads"
deb=$(ls "$downloads"/blender-data_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    echo "data: downloading blender-data (about 31 MB) with apt-get download"
    if ! (cd "$downloads" && apt-get download blender-data >/dev/null 2>&1 \
          || { apt-get update -qq >/dev/null 2>&1 && apt-get download blender-data >/dev/null 2>&1; }); then
        echo "warning: blender-data could not be downloaded (no apt access?); using the sample set data/sample" >&2
        rm -rf "$real" && mkdir -p "$real" && cp -r data/sample/train data/sample/val "$real/"
        echo "sample" > "$real/.complete"
        exit 0
    fi
    deb=$(ls "$downloads"/blender-data_*.deb | head -n 1)
fi
rm -rf "$downloads/unpacked" && dpkg -x "$deb" "$downloads/unpacked"
world="$downloads/unpacked/usr/share/blender/datafiles/studiolights/world"
[ -d "$world" ] || { echo "error: $deb: no studiolights/world directory" >&2; exit 1; }

rm -rf "$real" && mkdir -p "$real/sources/train" "$real/sources/val"
for f in "$world"/*.exr; do
    name=$(basename "$f" .exr)
    split=train
    for v in $val_images; do [ "$name" = "$v" ] && split=val; done
    cp "$f" "$real/sources/$split/"
done

# Procedural scenes (sky, sun, lamps, textured shadows) join the train sources as clean images.
"$bin" synth --from procedural --full --count 4 --recipe configs/degrade/identity.yaml --out "$real/procedural" --seed 3
for f in "$real"/procedural/target/*.exr; do cp "$f" "$real/sources/train/procedural-$(basename "$f")"; done
rm -rf "$real/procedural"

# Uncompressed: the loader decodes these pairs all through training, ~7x faster than ZIP (2572 vs 349
# patches/s on one worker, hdrpatch bench --what loader), for ~1.3x the disk (about 300 MB).
"$bin" synth --from "$real/sources/train" --recipe "$recipe" --out "$real/train" --patch 128 --count 768 --seed 1 \
    --compression none
"$bin" synth --from "$real/sources/val" --recipe "$recipe" --out "$real/val" --full --seed 2
echo "blender-data $(basename "$deb") train:none" > "$real/.complete"
echo "data: $real/train ($(ls "$real/train/input" | wc -l) pairs), $real/val ($(ls "$real/val/input" | wc -l) full images)"
hdr_warp
