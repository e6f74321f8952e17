/// A small zlib stream writer (RFC 1950/1951) for PNG image data: LZ77 with
/// hash chains over a 32 KiB window, coded with the fixed Huffman codes, or
/// stored (uncompressed) blocks. Plots are mostly runs of a few colours, so
/// fixed codes come within a few per cent of zlib's default level.
public enum Deflate {
    public enum Mode: Sendable { case stored, fixed }

    /// A zlib stream (header, deflate data, Adler-32) of `bytes`.
    public static func zlib(_ bytes: [UInt8], mode: Mode = .fixed) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]   // 32 KiB window, deflate; (0x7801 % 31 == 0)
        switch mode {
        case .stored: out += stored(bytes)
        case .fixed: out += fixed(bytes)
        }
        let a = adler32(bytes)
        out += [UInt8(a >> 24), UInt8((a >> 16) & 0xFF), UInt8((a >> 8) & 0xFF), UInt8(a & 0xFF)]
        return out
    }

    /// Adler-32 (RFC 1950): two sums modulo 65521, taken every 5552 bytes
    /// (the most that cannot overflow 32 bits).
    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < bytes.count {
            let end = min(i + 5552, bytes.count)
            while i < end { a &+= UInt32(bytes[i]); b &+= a; i += 1 }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    /// Stored blocks of at most 65535 bytes each (an empty input is one empty final block).
    static func stored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 5 * (bytes.count / 65535 + 1))
        var i = 0
        repeat {
            let n = min(65535, bytes.count - i)
            let last = i + n == bytes.count
            out += [last ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += bytes[i..<(i + n)]
            i += n
        } while i < bytes.count
        return out
    }

    /// Bits packed least significant first, as deflate wants them.
    struct BitWriter {
        var bytes: [UInt8] = []
        var acc: UInt64 = 0
        var count = 0

        mutating func put(_ value: UInt32, _ n: Int) {
            acc |= UInt64(value) << UInt64(count)
            count += n
            while count >= 8 { bytes.append(UInt8(acc & 0xFF)); acc >>= 8; count -= 8 }
        }

        /// A Huffman code, which deflate sends most significant bit first.
        mutating func putCode(_ code: UInt32, _ n: Int) {
            var r: UInt32 = 0
            for k in 0..<n { r |= ((code >> UInt32(k)) & 1) << UInt32(n - 1 - k) }
            put(r, n)
        }

        mutating func finish() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(acc & 0xFF)); acc = 0; count = 0 }
            return bytes
        }
    }

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                    67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                  1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Literal/length symbol `s` with the fixed code (RFC 1951 §3.2.6).
    static func putSymbol(_ s: Int, _ w: inout BitWriter) {
        switch s {
        case 0...143: w.putCode(UInt32(0x30 + s), 8)
        case 144...255: w.putCode(UInt32(0x190 + s - 144), 9)
        case 256...279: w.putCode(UInt32(s - 256), 7)
        default: w.putCode(UInt32(0xC0 + s - 280), 8)
        }
    }

    static func putMatch(length: Int, distance: Int, _ w: inout BitWriter) {
        var l = 28
        while lengthBase[l] > length { l -= 1 }
        putSymbol(257 + l, &w)
        if lengthExtra[l] > 0 { w.put(UInt32(length - lengthBase[l]), lengthExtra[l]) }
        var d = 29
        while distBase[d] > distance { d -= 1 }
        w.putCode(UInt32(d), 5)
        if distExtra[d] > 0 { w.put(UInt32(distance - distBase[d]), distExtra[d]) }
    }

    /// One final fixed-Huffman block: greedy LZ77 matches of 3 to 258 bytes
    /// found through hash chains of the last 32 KiB (at most 64 candidates each).
    static func fixed(_ bytes: [UInt8]) -> [UInt8] {
        let n = bytes.count
        let window = 32768, maxChain = 64, hashBits = 15
        var head = [Int](repeating: -1, count: 1 << hashBits)
        var prev = [Int](repeating: -1, count: window)
        var w = BitWriter()
        w.bytes.reserveCapacity(n / 4 + 16)
        w.put(1, 1)   // final block
        w.put(1, 2)   // fixed Huffman codes
        @inline(__always) func hash(_ i: Int) -> Int {
            let v = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            return (v &* 0x9E37_79B1) >> (32 - hashBits) & ((1 << hashBits) - 1)
        }
        @inline(__always) func insert(_ i: Int) {
            guard i + 2 < n else { return }
            let h = hash(i)
            prev[i & (window - 1)] = head[h]
            head[h] = i
        }
        var i = 0
        while i < n {
            var bestLength = 0, bestDistance = 0
            if i + 2 < n {
                let limit = min(258, n - i)
                var candidate = head[hash(i)]
                var chain = maxChain
                while candidate >= 0 && i - candidate <= window - 1 && chain > 0 {
                    if bytes[candidate + bestLength] == bytes[i + bestLength] || bestLength == 0 {
                        var l = 0
                        while l < limit && bytes[candidate + l] == bytes[i + l] { l += 1 }
                        if l > bestLength {
                            bestLength = l
                            bestDistance = i - candidate
                            if l == limit { break }
                        }
                    }
                    let next = prev[candidate & (window - 1)]
                    if next >= candidate { break }   // the slot was reused by a newer position
                    candidate = next
                    chain -= 1
                }
            }
            if bestLength >= 3 {
                putMatch(length: bestLength, distance: bestDistance, &w)
                for k in 0..<bestLength { insert(i + k) }
                i += bestLength
            } else {
                putSymbol(Int(bytes[i]), &w)
                insert(i)
                i += 1
            }
        }
        putSymbol(256, &w)
        return w.finish()
    }
}
