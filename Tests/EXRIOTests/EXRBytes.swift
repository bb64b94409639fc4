// Minimal parsing of single-part EXR headers in tests, to edit header fields and chunk offsets in place.

enum EXRBytes {
    /// Offset of the value of attribute `name`, and its declared size.
    static func attribute(_ bytes: [UInt8], _ name: String) -> (offset: Int, size: Int)? {
        var p = 8
        while p < bytes.count, bytes[p] != 0 {
            guard let nameEnd = bytes[p...].firstIndex(of: 0), let typeEnd = bytes[(nameEnd + 1)...].firstIndex(of: 0)
            else { return nil }
            let attr = String(decoding: bytes[p..<nameEnd], as: UTF8.self)
            let size = Int(int32(bytes, typeEnd + 1))
            if attr == name { return (typeEnd + 5, size) }
            p = typeEnd + 5 + size
        }
        return nil
    }

    /// Offset of the chunk offset table (one byte past the header's terminating zero).
    static func offsetTable(_ bytes: [UInt8]) -> Int {
        var p = 8
        while bytes[p] != 0 {
            let nameEnd = bytes[p...].firstIndex(of: 0)!
            let typeEnd = bytes[(nameEnd + 1)...].firstIndex(of: 0)!
            p = typeEnd + 5 + Int(int32(bytes, typeEnd + 1))
        }
        return p + 1
    }

    static func int32(_ b: [UInt8], _ at: Int) -> Int32 {
        Int32(bitPattern: UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24)
    }

    static func setInt32(_ b: inout [UInt8], _ at: Int, _ v: Int32) {
        let u = UInt32(bitPattern: v)
        for i in 0..<4 { b[at + i] = UInt8((u >> (8 * UInt32(i))) & 0xFF) }
    }

    static func setUInt64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        for i in 0..<8 { b[at + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) }
    }
}
