/// PNG encoding (ISO/IEC 15948) of 8-bit RGB images, with no library:
/// signature, IHDR, one IDAT holding a zlib stream of the filtered rows, IEND.
public enum PNG {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file of a `width` × `height` image whose `rgb` bytes are row-major R, G, B.
    /// Each row gets the filter (none, sub, up, average, Paeth) with the
    /// smallest sum of absolute differences, the usual heuristic.
    public static func encode(width: Int, height: Int, rgb: [UInt8], compression: Deflate.Mode = .fixed) -> [UInt8] {
        precondition(width > 0 && height > 0 && rgb.count == width * height * 3, "RGB bytes do not match the size")
        var ihdr: [UInt8] = []
        ihdr += bigEndian(UInt32(width))
        ihdr += bigEndian(UInt32(height))
        ihdr += [8, 2, 0, 0, 0]   // bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace
        var out = signature
        out += chunk("IHDR", ihdr)
        out += chunk("IDAT", Deflate.zlib(filtered(width: width, height: height, rgb: rgb), mode: compression))
        out += chunk("IEND", [])
        return out
    }

    /// Length, type, data and the CRC-32 of type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(CRC32.checksum(body))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// The rows, each preceded by its filter type byte.
    static func filtered(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        let stride = width * 3, bpp = 3
        var out = [UInt8](repeating: 0, count: height * (stride + 1))
        var candidate = [[UInt8]](repeating: [UInt8](repeating: 0, count: stride), count: 5)
        let zero = [UInt8](repeating: 0, count: stride)
        for y in 0..<height {
            let row = Array(rgb[(y * stride)..<((y + 1) * stride)])
            let up = y > 0 ? Array(rgb[((y - 1) * stride)..<(y * stride)]) : zero
            var bestType = 0, bestCost = Int.max
            for type in 0..<5 {
                var cost = 0
                for i in 0..<stride {
                    let a = i >= bpp ? Int(row[i - bpp]) : 0
                    let b = Int(up[i])
                    let c = i >= bpp ? Int(up[i - bpp]) : 0
                    let predicted: Int
                    switch type {
                    case 0: predicted = 0
                    case 1: predicted = a
                    case 2: predicted = b
                    case 3: predicted = (a + b) / 2
                    default: predicted = paeth(a, b, c)
                    }
                    let v = UInt8(truncatingIfNeeded: Int(row[i]) - predicted)
                    candidate[type][i] = v
                    cost += v < 128 ? Int(v) : 256 - Int(v)
                }
                if cost < bestCost { bestCost = cost; bestType = type }
            }
            let start = y * (stride + 1)
            out[start] = UInt8(bestType)
            for i in 0..<stride { out[start + 1 + i] = candidate[bestType][i] }
        }
        return out
    }

    @inline(__always) static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }
}
