#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift from Debian's onnx.proto (libonnx-dev, ONNX 1.12: IR version 8, opsets
# to 17; the messages used for later opsets are the same) with protoc (protobuf-compiler) and swift-protobuf's
# protoc-gen-swift built from the swift-protobuf checkout this package resolved (the runtime it links against). The generated file is committed: building the plugin
# takes about two minutes, so neither make test nor CI runs this.
set -euo pipefail
cd "$(dirname "$0")/../.."
proto=/usr/include/onnx/onnx.proto
for p in protobuf-compiler libonnx-dev; do
    dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y -qq --no-install-recommends $missing
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/protoc-gen-swift.XXXXXX")
trap 'rm -rf "$work"' EXIT
swift package resolve
cp -r .build/checkouts/swift-protobuf "$work/swift-protobuf"
version=$(git -C "$work/swift-protobuf" describe --tags 2>/dev/null || git -C "$work/swift-protobuf" rev-parse HEAD)
(cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
protoc --plugin=protoc-gen-swift="$work/swift-protobuf/.build/release/protoc-gen-swift" \
    --swift_out=Sources/ONNXProto --swift_opt=Visibility=Package -I "$(dirname $proto)" "$proto"
echo "wrote Sources/ONNXProto/onnx.pb.swift from $proto (swift-protobuf $version)"
