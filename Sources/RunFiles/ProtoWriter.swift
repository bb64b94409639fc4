// Just enough protobuf wire encoding for TensorBoard's Event/Summary messages, so we need no protobuf dependency.

/// Appends protobuf wire-format fields to `bytes`. Field order is the caller's; we write fields in field-number
/// order, as protoc does, so our bytes match what TensorFlow would write for the same message.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: UInt32, _ wire: WireType) { varint(UInt64(field) << 3 | UInt64(wire.rawValue)) }

    /// int64: negative values take the full ten bytes of their two's complement, per the spec.
    mutating func int64(_ field: UInt32, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: UInt32, _ value: Double) {
        key(field, .fixed64)
        littleEndian(value.bitPattern)
    }

    mutating func float(_ field: UInt32, _ value: Float) {
        key(field, .fixed32)
        littleEndian(value.bitPattern)
    }

    mutating func string(_ field: UInt32, _ value: String) { message(field, Array(value.utf8)) }

    /// A length-delimited field: an embedded message's encoding, or raw bytes.
    mutating func message(_ field: UInt32, _ encoded: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(encoded.count))
        bytes.append(contentsOf: encoded)
    }

    private mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
