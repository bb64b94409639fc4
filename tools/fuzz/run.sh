#!/usr/bin/env bash
# Memory-checks the OpenEXR shim on the corrupt variants of Tests/EXRIOTests/EXRCorruptionTests.swift
# (valgrind memcheck, which also sees inside the system OpenEXR libraries), then fuzzes it with libFuzzer.
#   tools/fuzz/run.sh [fuzz-seconds]      needs valgrind and clang++ with -fsanitize=fuzzer
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${TMPDIR:-/tmp}/hdrpatch-fuzz
mkdir -p "$out/corpus"
flags="-std=c++17 -O1 -g -I Sources/COpenEXR/include $(pkg-config --cflags OpenEXR)"
libs="$(pkg-config --libs OpenEXR)"
g++ $flags tools/fuzz/shim_driver.cpp Sources/COpenEXR/exr_read.cpp Sources/COpenEXR/exr_write.cpp $libs -o "$out/driver"
HDRPATCH_CORRUPT_DUMP="$out/corpus" swift test --filter EXRCorruptionTests > /dev/null
echo "variants: $(ls "$out/corpus" | wc -l)"
valgrind --error-exitcode=9 -q "$out/driver" "$out"/corpus/*
clang=${CLANGXX:-/opt/swift/usr/bin/clang++}
"$clang" $flags -DHP_FUZZER -fsanitize=fuzzer,address tools/fuzz/shim_driver.cpp Sources/COpenEXR/exr_read.cpp Sources/COpenEXR/exr_write.cpp $libs -o "$out/fuzzer"
mkdir -p "$out/live" && cp "$out"/corpus/*-base.exr "$out/live/"
"$out/fuzzer" -max_total_time="${1:-120}" -rss_limit_mb=2048 -max_len=65536 "$out/live" 2>&1 | tail -5
