// The two TensorBoard Event messages we write (file version, scalars), encoded by hand, and reading an event's step.

/// tensorflow/core/util/event.proto and summary.proto, the fields we use:
/// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
/// Summary { repeated Value value = 1; }  Summary.Value { string tag = 1; float simple_value = 2; }
package enum TensorBoardEvent {
    package static let fileVersion = "brain.Event:2"

    /// The first record of every event file; TensorBoard uses it to pick the file's semantics.
    package static func fileVersionEvent(wallTime: Double) -> [UInt8] {
        var w = ProtoWriter()
        w.double(1, wallTime)
        w.string(3, fileVersion)
        return w.bytes
    }

    /// One Event holding every value as a `simple_value` scalar, tags in sorted order so the bytes are deterministic.
    /// simple_value is a float: values beyond Float's range become +-inf, NaN stays NaN (TensorBoard shows both).
    package static func scalarsEvent(step: Int, values: [String: Double], wallTime: Double) -> [UInt8] {
        var summary = ProtoWriter()
        for tag in values.keys.sorted() {
            var value = ProtoWriter()
            value.string(1, tag)
            value.float(2, Float(values[tag]!))
            summary.message(1, value.bytes)
        }
        var w = ProtoWriter()
        w.double(1, wallTime)
        w.int64(2, Int64(step))
        w.message(5, summary.bytes)
        return w.bytes
    }

    /// The Event's `step` (0 when absent, as proto3 defines), walking top-level fields of any Event, ours or not.
    /// Returns nil when the bytes are not a well-formed message.
    package static func step(of event: ArraySlice<UInt8>) -> Int64? {
        var at = event.startIndex
        var step: Int64 = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while at < event.endIndex, shift < 64 {
                let b = event[at]
                at += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            return nil
        }
        while at < event.endIndex {
            guard let key = varint() else { return nil }
            switch key & 7 {
            case 0:
                guard let v = varint() else { return nil }
                if key >> 3 == 2 { step = Int64(bitPattern: v) }
            case 1: at += 8
            case 5: at += 4
            case 2:
                guard let n = varint(), n <= UInt64(event.endIndex - at) else { return nil }
                at += Int(n)
            default: return nil
            }
            if at > event.endIndex { return nil }
        }
        return step
    }
}
