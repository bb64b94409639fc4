#!/usr/bin/env bash
# Checks that the Swift sources are formatted as `make format` (swift-format with .swift-format) leaves them:
# formats a copy and lists every file that would change. Exit 1 when any would; `make format` fixes them.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift=${SWIFT:-swift}
if ! "$swift" format --version >/dev/null 2>&1; then
    echo "error: '$swift format' not found: swift-format ships with Swift 5.8 and later toolchains" >&2
    exit 1
fi
copy=$(mktemp -d "${TMPDIR:-/tmp}/hdrpatch-format.XXXXXX")
trap 'rm -rf "$copy"' EXIT
cp -r Sources Tests Package.swift .swift-format "$copy/"
(cd "$copy" && "$swift" format format --recursive --in-place --parallel Sources Tests Package.swift)
changed=$(diff -rq Sources "$copy/Sources" | sed 's/^Files \([^ ]*\) and.*/\1/'; diff -rq Tests "$copy/Tests" | sed 's/^Files \([^ ]*\) and.*/\1/'; cmp -s Package.swift "$copy/Package.swift" || echo Package.swift)
if [ -n "$changed" ]; then
    echo "error: not formatted (run 'make format'):" >&2
    echo "$changed" | sed 's/^/  /' >&2
    exit 1
fi
echo "format: $(find Sources Tests -name '*.swift' | wc -l) Swift files formatted"
