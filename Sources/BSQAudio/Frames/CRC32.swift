/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of
/// zlib's `crc32`, computed sixteen bytes at a time ("slicing-by-16").
public struct CRC32: Sendable {
    public private(set) var value: UInt32 = 0
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        state = bytes.count >= CRC32.streamedMinimum ? ~CRC32.streamed(~state, bytes) : CRC32.run(state, bytes)
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

    /// Large buffers are cut in four parts whose CRCs are computed in one
    /// interleaved loop (four independent dependency chains keep the table
    /// loads busy, where one chain waits on its own latency) and then joined
    /// with `combine`, as zlib's crc32_combine does.
    static let streamedMinimum = 4096

    static func streamed(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let part = bytes.count / 4 & ~7
        let base = bytes.baseAddress!
        var c0 = ~crc, c1: UInt32 = 0xFFFF_FFFF, c2: UInt32 = 0xFFFF_FFFF, c3: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { tb in
            let t = tb.baseAddress!
            @inline(__always) func step(_ c: UInt32, _ p: UnsafeRawPointer) -> UInt32 {
                let w = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) ^ UInt64(c)
                return t[7 &* 256 &+ Int(w & 0xFF)] ^ t[6 &* 256 &+ Int((w >> 8) & 0xFF)]
                    ^ t[5 &* 256 &+ Int((w >> 16) & 0xFF)] ^ t[4 &* 256 &+ Int((w >> 24) & 0xFF)]
                    ^ t[3 &* 256 &+ Int((w >> 32) & 0xFF)] ^ t[2 &* 256 &+ Int((w >> 40) & 0xFF)]
                    ^ t[1 &* 256 &+ Int((w >> 48) & 0xFF)] ^ t[Int(w >> 56)]
            }
            var off = 0
            while off < part {
                let p = UnsafeRawPointer(base) + off
                c0 = step(c0, p)
                c1 = step(c1, p + part)
                c2 = step(c2, p + 2 * part)
                c3 = step(c3, p + 3 * part)
                off &+= 8
            }
        }
        let tail = bytes.count - 3 * part
        c3 = run(c3, UnsafeRawBufferPointer(start: base + 4 * part, count: tail - part))
        var out = combine(~c0, ~c1, length: part)
        out = combine(out, ~c2, length: part)
        return combine(out, ~c3, length: tail)
    }

    /// The CRC of A followed by B from crc(A), crc(B) and B's length
    /// (zlib's crc32_combine: crc(A)·x^(8·len) mod P, plus crc(B)).
    public static func combine(_ a: UInt32, _ b: UInt32, length: Int) -> UInt32 {
        multiply(powerOfX(8 * length), a) ^ b
    }

    /// a·b modulo the reflected polynomial (bit 31 is x⁰).
    static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var m: UInt32 = 1 << 31, p: UInt32 = 0, b = b
        while true {
            if a & m != 0 {
                p ^= b
                if a & (m &- 1) == 0 { break }
            }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ 0xEDB8_8320 : b >> 1
        }
        return p
    }

    /// x^n modulo P, by squaring.
    static func powerOfX(_ n: Int) -> UInt32 {
        var p: UInt32 = 1 << 31, square: UInt32 = 1 << 30   // x⁰, x¹
        var n = n
        while n > 0 {
            if n & 1 != 0 { p = multiply(square, p) }
            square = multiply(square, square)
            n >>= 1
        }
        return p
    }

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
