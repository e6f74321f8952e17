/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of
/// zlib's `crc32`, computed sixteen bytes at a time ("slicing-by-16").
public struct CRC32: Sendable {
    public private(set) var value: UInt32 = 0
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        state = CRC32.run(state, bytes)
        value = ~state
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = CRC32()
        c.update(bytes)
        return c.value
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// 16 tables of 256 entries: `table[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
    private static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 16 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[b] = c
        }
        for k in 1..<16 {
            for b in 0..<256 {
                let prev = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    private static func run(_ start: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return start }
        var n = bytes.count
        var c = start
        return table.withUnsafeBufferPointer { tb in
            let t = tb.baseAddress!
            @inline(__always) func T(_ k: Int, _ x: UInt32) -> UInt32 { t[k &* 256 &+ Int(x & 0xFF)] }
            while n >= 16 {
                let a = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) ^ c
                let b = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                let d = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
                let e = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
                c = T(15, a) ^ T(14, a >> 8) ^ T(13, a >> 16) ^ T(12, a >> 24)
                    ^ T(11, b) ^ T(10, b >> 8) ^ T(9, b >> 16) ^ T(8, b >> 24)
                    ^ T(7, d) ^ T(6, d >> 8) ^ T(5, d >> 16) ^ T(4, d >> 24)
                    ^ T(3, e) ^ T(2, e >> 8) ^ T(1, e >> 16) ^ T(0, e >> 24)
                p += 16
                n &-= 16
            }
            while n > 0 {
                c = (c >> 8) ^ T(0, c ^ UInt32(p.load(as: UInt8.self)))
                p += 1
                n &-= 1
            }
            return c
        }
    }
}
