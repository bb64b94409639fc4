// TFRecord framing (the container of TensorBoard event files): framing one record, and splitting a file back
// into records, tolerating only a partial record at the end (what a kill mid-write leaves).

/// One record on disk: u64 LE length, u32 LE masked CRC32C of those 8 bytes, the data, u32 LE masked CRC32C of the data.
package enum TFRecord {
    package static let headerBytes = 12
    package static let footerBytes = 4

    package static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerBytes + data.count + footerBytes)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        out += length
        withUnsafeBytes(of: CRC32C.maskedChecksum(length).littleEndian) { out.append(contentsOf: $0) }
        out += data
        withUnsafeBytes(of: CRC32C.maskedChecksum(data).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// The records of a file, each as the byte range of its data and of the whole framed record.
    package struct Split {
        package var records: [(data: Range<Int>, framed: Range<Int>)]
        /// Bytes after the last whole record: a record cut short by a kill. 0 for a clean file.
        package var partialTailBytes: Int
    }

    /// Splits `bytes` into records, checking every length and CRC. A record that does not fit in the remaining
    /// bytes is a partial tail (dropped, counted); a CRC mismatch on bytes that are all present is corruption and
    /// throws, naming `path` and the record's byte offset.
    package static func split(_ bytes: [UInt8], path: String) throws -> Split {
        var records: [(data: Range<Int>, framed: Range<Int>)] = []
        var at = 0
        while at < bytes.count {
            let remaining = bytes.count - at
            if remaining < headerBytes { return Split(records: records, partialTailBytes: remaining) }
            let length = readLE(UInt64.self, bytes, at)
            let lengthCRC = readLE(UInt32.self, bytes, at + 8)
            if CRC32C.maskedChecksum(bytes[at..<at + 8]) != lengthCRC {
                throw RunLogError(path: path, reason: "TFRecord at byte \(at): length CRC mismatch")
            }
            // Compared as UInt64 so a huge (but CRC-valid) length cannot overflow Int.
            let room = remaining - headerBytes - footerBytes
            if room < 0 || length > UInt64(room) {
                return Split(records: records, partialTailBytes: remaining)
            }
            let start = at + headerBytes
            let end = start + Int(length)
            if CRC32C.maskedChecksum(bytes[start..<end]) != readLE(UInt32.self, bytes, end) {
                throw RunLogError(path: path, reason: "TFRecord at byte \(at): data CRC mismatch")
            }
            records.append((data: start..<end, framed: at..<end + footerBytes))
            at = end + footerBytes
        }
        return Split(records: records, partialTailBytes: 0)
    }

    static func readLE<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ at: Int) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(bytes[at + i]) << (8 * i) }
        return v
    }
}
