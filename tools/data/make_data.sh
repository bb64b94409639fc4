#!/usr/bin/env bash
# Builds the default data set (data/real), the HDR-input task (data/hdr_warp) and the held-out test set
# (data/heldout, see heldout() below). data/real comes from the CC0 world HDRIs of Debian's blender-data package
# (downloaded with apt-get download and unpacked, never installed), the CC0 Poly Haven panoramas committed in
# data/polyhaven and the OpenEXR sample images committed in data/ilm (its photographs are the validation set).
# Split by source image: the val images never appear in train. Procedural scenes are added to
# train. Without apt access, falls back to the committed sample set (data/sample) and says so.
#   tools/data/make_data.sh [HDRPATCH_BINARY] [all|train]
# `train` builds only what `make train` and `make eval` read (the clean training sources, the validation
# photographs and the held-out set); `all` (the default, `make data`) adds the stored training pairs of data/real/train
# and data/hdr_warp, which the ablation and `bench --what loader` read.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-.build/release/hdrpatch}
scope=${2:-all}
case "$scope" in all|train) ;; *) echo "error: make_data.sh: scope '$scope' is not all or train" >&2; exit 2;; esac
recipe=configs/degrade/default.yaml
downloads=data/downloads
real=data/real
# Held out for validation (split by image, never by patch): six real photographs of the committed OpenEXR sample
# images (data/ilm/README.md), like the held-out test set's; every panorama trains.
val_images="Bonita Cannon Flowers MtTamNorth MtTamWest Tree"
# The stamp names how many Poly Haven panoramas the set was made with, so committing more rebuilds it.
polyhaven_count=$(ls data/polyhaven/*.exr | wc -l)

# A set made before the training pairs were written uncompressed, before the Poly Haven panoramas joined the
# sources, or before the validation set became photographs (data/ilm), is rebuilt once.
# $real/.sources marks the sources and the validation photographs made, $real/.complete the stored pairs as well.
for stamp in "$real/.complete" "$real/.sources"; do
    if [ -f "$stamp" ] && ! grep -q "sample\|train:none polyhaven:$polyhaven_count ilm" "$stamp"; then
        echo "data: $real predates the current sources; rebuilding"
        rm -f "$real/.complete" "$real/.sources" && rm -rf data/hdr_warp
    fi
done
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

# The held-out test set: five real HDR photographs (Industrial Light & Magic's OpenEXR sample images, BSD-3,
# shipped by Debian's psychtoolbox-3-common) that no training set of this project touches: another source,
# another camera, another kind of scene (indoor lamps, candles, a stained-glass window, dusk, sun on the sea).
# Degraded with the phone-capture recipe and cut into 256x256 patches, 16 per image on average.
heldout() {
    local out=data/heldout
    # A set made before the full images were added is rebuilt once.
    if [ -f "$out/.complete" ] && ! grep -q " full" "$out/.complete"; then rm -f "$out/.complete"; fi
    if [ -f "$out/.complete" ]; then echo "data: $out is complete (remove it to rebuild)"; return; fi
    local images="CandleGlass Desk GoldenGate Ocean StillLife"
    local ptb
    ptb=$(ls "$downloads"/psychtoolbox-3-common_*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$ptb" ]; then
        echo "data: downloading psychtoolbox-3-common (about 26 MB) with apt-get download, for its 5 OpenEXR photos"
        mkdir -p "$downloads"
        if ! (cd "$downloads" && apt-get download psychtoolbox-3-common >/dev/null 2>&1 \
              || { apt-get update -qq >/dev/null 2>&1 && apt-get download psychtoolbox-3-common >/dev/null 2>&1; }); then
            echo "warning: psychtoolbox-3-common could not be downloaded (no apt access?): no held-out set" >&2
            return
        fi
        ptb=$(ls "$downloads"/psychtoolbox-3-common_*.deb | head -n 1)
    fi
    local dir=./usr/share/psychtoolbox-3/PsychDemos/OpenEXRImages
    rm -rf "$downloads/ptb" "$out" && mkdir -p "$downloads/ptb" "$out/sources"
    # Only the images and the licence: the whole package unpacks to 650 MB.
    dpkg-deb --fsys-tarfile "$ptb" | tar -x -C "$downloads/ptb" \
        $(for i in $images; do echo "$dir/$i.exr"; done) ./usr/share/doc/psychtoolbox-3-common/copyright
    for i in $images; do cp "$downloads/ptb/$dir/$i.exr" "$out/sources/"; done
    cp "$downloads/ptb/usr/share/doc/psychtoolbox-3-common/copyright" "$out/sources/COPYRIGHT-psychtoolbox-3-common"
    "$bin" synth --from "$out/sources" --recipe "$recipe" --out "$out/phone" --patch 256 --count 80 --seed 21
    # The same photographs whole (644x874 to 1262x860), for tiled restores of a user's full image.
    "$bin" synth --from "$out/sources" --recipe "$recipe" --out "$out/phone-full" --full --seed 22
    echo "psychtoolbox-3-common $(basename "$ptb") full" > "$out/.complete"
    echo "data: $out/phone ($(ls "$out/phone/input" | wc -l) pairs of 256x256 from $(echo $images | wc -w) photographs), $out/phone-full"
}

# The clean training sources (the panoramas, the sample images but the validation ones, procedural scenes) and
# the validation photographs. Without apt access, the committed sample set stands in and the script ends there.
sources() {
    if [ -f "$real/.complete" ] || [ -f "$real/.sources" ]; then
        echo "data: $real/sources and $real/val are complete (remove $real to rebuild)"
        return
    fi
    mkdir -p "$downloads"
    local deb
    deb=$(ls "$downloads"/blender-data_*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
        echo "data: downloading blender-data (about 31 MB) with apt-get download"
        if ! (cd "$downloads" && apt-get download blender-data >/dev/null 2>&1 \
              || { apt-get update -qq >/dev/null 2>&1 && apt-get download blender-data >/dev/null 2>&1; }); then
            echo "warning: blender-data could not be downloaded (no apt access?); using the sample set data/sample" >&2
            rm -rf "$real" && mkdir -p "$real/sources/train" && cp -r data/sample/train data/sample/val "$real/"
            # The default config makes its pairs from clean sources: the sample set's targets stand in.
            cp data/sample/train/target/*.exr "$real/sources/train/"
            echo "sample" > "$real/.complete"
            exit 0
        fi
        deb=$(ls "$downloads"/blender-data_*.deb | head -n 1)
    fi
    rm -rf "$downloads/unpacked" && dpkg -x "$deb" "$downloads/unpacked"
    local world="$downloads/unpacked/usr/share/blender/datafiles/studiolights/world"
    [ -d "$world" ] || { echo "error: $deb: no studiolights/world directory" >&2; exit 1; }

    rm -rf "$real" && mkdir -p "$real/sources/train" "$real/sources/val"
    # Blender's eight world HDRIs and the committed Poly Haven panoramas (all CC0; data/polyhaven/README.md) and the
    # eight committed OpenEXR sample images (BSD-3), by image.
    for f in "$world"/*.exr data/polyhaven/*.exr data/ilm/*.exr; do
        local name split=train
        name=$(basename "$f" .exr)
        for v in $val_images; do [ "$name" = "$v" ] && split=val; done
        cp "$f" "$real/sources/$split/"
    done

    # Procedural scenes (sky, sun, lamps, textured shadows) join the train sources as clean images.
    "$bin" synth --from procedural --full --count 4 --recipe configs/degrade/identity.yaml --out "$real/procedural" --seed 3
    for f in "$real"/procedural/target/*.exr; do cp "$f" "$real/sources/train/procedural-$(basename "$f")"; done
    rm -rf "$real/procedural"
    "$bin" synth --from "$real/sources/val" --recipe "$recipe" --out "$real/val" --full --seed 2
    echo "blender-data $(basename "$deb") train:none polyhaven:$polyhaven_count ilm" > "$real/.sources"
    echo "data: $real/sources/train ($(ls "$real/sources/train" | wc -l) clean sources), $real/val ($(ls "$real/val/input" | wc -l) full images)"
}

# The stored training pairs (the ablation's and `bench --what loader`'s; the default config makes its own on the
# fly). Uncompressed: the loader decodes these pairs all through training, ~7x faster than ZIP (2572 vs 349
# patches/s on one worker, hdrpatch bench --what loader), for ~1.3x the disk (about 300 MB).
pairs() {
    if [ -f "$real/.complete" ]; then echo "data: $real is complete (remove it to rebuild)"; return; fi
    rm -rf "$real/train"
    "$bin" synth --from "$real/sources/train" --recipe "$recipe" --out "$real/train" --patch 128 --count 768 --seed 1 \
        --compression none
    cp "$real/.sources" "$real/.complete"
    echo "data: $real/train ($(ls "$real/train/input" | wc -l) pairs)"
}

sources
if [ "$scope" = all ]; then
    pairs
    hdr_warp
fi
heldout
