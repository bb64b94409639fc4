#!/usr/bin/env bash
# Memory-checks the OpenEXR shim (valgrind memcheck, which also sees inside the system OpenEXR libraries) on the
# interop matrix (Tests/Fixtures/interop: files from other writers) and on the corrupt variants of
# Tests/EXRIOTests/EXRCorruptionTests.swift, then fuzzes it with libFuzzer seeded with both.
#   tools/fuzz/run.sh [fuzz-seconds] [fuzz-jobs]      needs valgrind and clang++ with -fsanitize=fuzzer
# Prints the valgrind verdict, then libFuzzer's run count; any crash, leak or memory error stops it non-zero
# and leaves the input under $TMPDIR/hdrpatch-fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${TMPDIR:-/tmp}/hdrpatch-fuzz
rm -rf "$out/corpus" "$out/live"
mkdir -p "$out/corpus" "$out/live"
flags="-std=c++17 -O1 -g -I Sources/COpenEXR/include $(pkg-config --cflags OpenEXR)"
libs="$(pkg-config --libs OpenEXR)"
g++ $flags tools/fuzz/shim_driver.cpp Sources/COpenEXR/exr_open.cpp Sources/COpenEXR/exr_read.cpp Sources/COpenEXR/exr_write.cpp $libs -o "$out/driver"
HDRPATCH_CORRUPT_DUMP="$out/corpus" swift test --filter EXRCorruptionTests > /dev/null
echo "matrix files: $(ls Tests/Fixtures/interop/*.exr | wc -l); corrupt variants: $(ls "$out/corpus" | wc -l)"
valgrind --error-exitcode=9 -q "$out/driver" Tests/Fixtures/interop/*.exr
valgrind --error-exitcode=9 -q "$out/driver" "$out"/corpus/*
echo "valgrind: no memory errors"
clang=${CLANGXX:-/opt/swift/usr/bin/clang++}
"$clang" $flags -DHP_FUZZER -fsanitize=fuzzer,address tools/fuzz/shim_driver.cpp Sources/COpenEXR/exr_open.cpp Sources/COpenEXR/exr_read.cpp \
    Sources/COpenEXR/exr_write.cpp $libs -o "$out/fuzzer" 2> >(grep -v "Cannot export local symbol" >&2)
cp "$out"/corpus/*-base.exr Tests/Fixtures/interop/*.exr "$out/live/"
cd "$out"
# -timeout=10: an input that takes over 10 s counts as a hang (every matrix file decodes in milliseconds).
./fuzzer -max_total_time="${1:-120}" -jobs="${2:-1}" -workers="${2:-1}" -rss_limit_mb=2048 -max_len=65536 \
    -timeout=10 -print_final_stats=1 live 2>&1 | grep -E "stat::number_of_executed_units|Done|ERROR|SUMMARY|crash-|timeout-|#[0-9]+ +DONE" | tail -8
found=$(find . -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' \) | wc -l)
echo "fuzz: $found crash/timeout/leak/oom inputs; corpus now $(ls live | wc -l) files"
# ASan does not see inside the system OpenEXR libraries; valgrind does: memcheck the corpus the fuzzer grew.
valgrind --error-exitcode=9 -q ./driver live/*
echo "valgrind on the grown corpus: no memory errors"
[ "$found" -eq 0 ]
