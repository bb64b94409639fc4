// CRC32C (Castagnoli) and TFRecord's masked form, for the TensorBoard event files we write and verify.

/// CRC-32C: reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF (the iSCSI / TFRecord checksum).
package enum CRC32C {
    /// One 256-entry table, built once; byte-at-a-time is plenty for a few hundred bytes per training step.
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    package static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord stores a rotated, offset CRC so that a CRC computed over data that itself contains CRCs
    /// does not degenerate: ((crc >> 15) | (crc << 17)) + 0xa282ead8, mod 2^32.
    package static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    package static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        masked(checksum(bytes))
    }
}
