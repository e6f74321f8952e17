import BSQAudio

/// A strict reader of the PNG files bsq-plot writes (8-bit RGB, no
/// interlace; deflate blocks stored or with fixed codes), written apart from
/// the encoder so that tests check it against the specifications, not itself.
public struct DecodedPNG {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ s: String) { description = s }
    }

    public var width = 0
    public var height = 0
    /// Chunk types in file order.
    public var chunks: [String] = []
    /// IHDR's bit depth, colour type, compression, filter and interlace bytes.
    public var header: [UInt8] = []
    /// Deflate block types (0 stored, 1 fixed, 2 dynamic) in stream order.
    public var blockTypes: [Int] = []
    public var rgb: [UInt8] = []

    public func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = 3 * (y * width + x)
        return RGB(rgb[i], rgb[i + 1], rgb[i + 2])
    }

    public init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure("no PNG signature")
        }
        func be32(_ i: Int) -> UInt32 { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        var at = 8
        var idat: [UInt8] = []
        while at < bytes.count {
            guard at + 12 <= bytes.count else { throw Failure("truncated chunk at \(at)") }
            let length = Int(be32(at))
            guard at + 12 + length <= bytes.count else { throw Failure("truncated chunk at \(at)") }
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            let data = Array(bytes[(at + 8)..<(at + 8 + length)])
            let crc = be32(at + 8 + length)
            guard crc == CRC32.checksum(Array(bytes[(at + 4)..<(at + 8 + length)])) else { throw Failure("bad CRC of \(type)") }
            chunks.append(type)
            switch type {
            case "IHDR":
                guard length == 13 else { throw Failure("IHDR of \(length) bytes") }
                width = Int(be32(at + 8)); height = Int(be32(at + 12))
                header = Array(data[8..<13])
            case "IDAT": idat += data
            default: break
            }
            at += 12 + length
        }
        guard chunks.first == "IHDR", chunks.last == "IEND" else { throw Failure("chunks \(chunks)") }
        guard header == [8, 2, 0, 0, 0] else { throw Failure("not 8-bit RGB: \(header)") }
        guard idat.count >= 6, (UInt16(idat[0]) << 8 | UInt16(idat[1])) % 31 == 0, idat[0] & 0x0F == 8 else {
            throw Failure("bad zlib header")
        }
        var inflater = Inflater(Array(idat[2...]))
        let raw = try inflater.inflate()
        blockTypes = inflater.blockTypes
        let tail = 2 + inflater.consumedBytes
        guard idat.count == tail + 4 else { throw Failure("\(idat.count - tail - 4) bytes after the deflate data") }
        var a = 1, b = 0
        for v in raw { a = (a + Int(v)) % 65521; b = (b + a) % 65521 }
        guard UInt32(b << 16 | a) == idat[tail..<(tail + 4)].reduce(0, { $0 << 8 | UInt32($1) }) else { throw Failure("bad Adler-32") }
        let stride = 3 * width
        guard raw.count == height * (stride + 1) else { throw Failure("\(raw.count) bytes of image data") }
        rgb = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = Int(raw[y * (stride + 1) + 1 + i])
                let left = i >= 3 ? Int(rgb[y * stride + i - 3]) : 0
                let up = y > 0 ? Int(rgb[(y - 1) * stride + i]) : 0
                let upLeft = i >= 3 && y > 0 ? Int(rgb[(y - 1) * stride + i - 3]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = left
                case 2: predicted = up
                case 3: predicted = (left + up) / 2
                case 4:
                    let p = left + up - upLeft
                    let pa = abs(p - left), pb = abs(p - up), pc = abs(p - upLeft)
                    predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft
                default: throw Failure("filter type \(filter) in row \(y)")
                }
                rgb[y * stride + i] = UInt8((x + predicted) & 0xFF)
            }
        }
    }
}

/// Inflate (RFC 1951) of stored and fixed-code blocks.
struct Inflater {
    let bytes: [UInt8]
    var bit = 0
    var blockTypes: [Int] = []
    var consumedBytes: Int { (bit + 7) / 8 }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bits(_ n: Int) throws -> Int {
        var v = 0
        for k in 0..<n {
            guard bit / 8 < bytes.count else { throw DecodedPNG.Failure("deflate data ends early") }
            v |= Int(bytes[bit / 8] >> UInt8(bit % 8) & 1) << k
            bit += 1
        }
        return v
    }

    /// A Huffman code of `n` bits, most significant bit first.
    mutating func code(_ n: Int) throws -> Int {
        var v = 0
        for _ in 0..<n { v = v << 1 | (try bits(1)) }
        return v
    }

    mutating func fixedSymbol() throws -> Int {
        var v = try code(7)
        if v <= 0x17 { return 256 + v }
        v = v << 1 | (try bits(1))
        if v >= 0x30 && v <= 0xBF { return v - 0x30 }
        if v >= 0xC0 && v <= 0xC7 { return 280 + v - 0xC0 }
        v = v << 1 | (try bits(1))
        guard v >= 0x190 && v <= 0x1FF else { throw DecodedPNG.Failure("bad fixed code") }
        return 144 + v - 0x190
    }

    mutating func inflate() throws -> [UInt8] {
        let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
                        3073, 4097, 6145, 8193, 12289, 16385, 24577]
        let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
        var out: [UInt8] = []
        var final = false
        while !final {
            final = try bits(1) == 1
            let type = try bits(2)
            blockTypes.append(type)
            switch type {
            case 0:
                bit = (bit + 7) / 8 * 8
                let len = try bits(16), nlen = try bits(16)
                guard len == ~nlen & 0xFFFF else { throw DecodedPNG.Failure("stored block LEN/NLEN mismatch") }
                guard bit / 8 + len <= bytes.count else { throw DecodedPNG.Failure("stored block ends early") }
                out += bytes[(bit / 8)..<(bit / 8 + len)]
                bit += 8 * len
            case 1:
                while true {
                    let s = try fixedSymbol()
                    if s < 256 { out.append(UInt8(s)); continue }
                    if s == 256 { break }
                    guard s <= 285 else { throw DecodedPNG.Failure("length symbol \(s)") }
                    let length = lengthBase[s - 257] + (try bits(lengthExtra[s - 257]))
                    let d = try code(5)
                    guard d < 30 else { throw DecodedPNG.Failure("distance symbol \(d)") }
                    let distance = distBase[d] + (try bits(distExtra[d]))
                    guard distance <= out.count else { throw DecodedPNG.Failure("distance \(distance) before the start") }
                    for _ in 0..<length { out.append(out[out.count - distance]) }
                }
            default:
                throw DecodedPNG.Failure("deflate block type \(type) not expected")
            }
        }
        return out
    }
}
