/// A frame as it was stored: its header, metadata and payload bytes (still
/// compressed when `zstd`), and where it began in the stream. A pass-through
/// tool writes it back unchanged without recomputing anything.
public struct StoredFrame: Sendable {
    public var dtype: DType
    public var dims: [Int]
    public var meta: JSONObject
    public var zstd: Bool
    /// Magic to `payload_len`, exactly as read.
    public var head: [UInt8]
    /// The stored payload.
    public var payload: [UInt8]
    public var crc: UInt32
    /// The CRC of `head` and `payload` as computed while they were read (nil:
    /// not computed, `verify` computes it).
    public var computedCRC: UInt32?
    /// Byte offset of the frame in its stream.
    public var offset: Int
    /// The stream's name, for errors ("-": standard input).
    public var stream = "-"

    /// Bytes the frame takes in a stream.
    public var storedSize: Int { head.count + payload.count + 4 }

    /// Decompresses and checks the payload.
    public func decode() throws -> Frame {
        let expected = Frame.byteCount(dtype: dtype, dims: dims)!
        var bytes = payload
        if zstd {
            switch payload.withUnsafeBytes({ Zstd.decompress($0, expected: expected) }) {
            case .success(let b): bytes = b
            case .failure(let e): throw BSQError("\(stream == "-" ? "" : stream + ": ")\(e.message) at byte \(offset)")
            }
        }
        return Frame(dtype: dtype, dims: dims, meta: meta, payload: bytes)
    }
}

/// Reads BSQT frames one at a time from a stream, checking every field of
/// bsqt(5) before it allocates or trusts anything.
public final class FrameReader {
    public let source: ByteSource
    /// Largest uncompressed payload accepted (16 GiB); larger is an error, never an allocation.
    public static let maxPayload = 1 << 34
    public static let maxMeta = 1 << 20

    public init(_ source: ByteSource) { self.source = source }

    public convenience init(path: String) throws { self.init(try ByteSource(path: path)) }

    private func fail(_ what: String, _ offset: Int) -> BSQError {
        BSQError("\(source.name == "-" ? "" : source.name + ": ")\(what) at byte \(offset)")
    }

    private func readExactly(_ n: Int, into p: UnsafeMutableRawPointer, frame: Int) throws {
        let got = try source.read(into: p, count: n)
        if got < n { throw fail("stream ends inside a frame", frame) }
    }

    private func readBytes(_ n: Int, frame: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            if n > 0 { try readExactly(n, into: buf.baseAddress!, frame: frame) }
            count = n
        }
    }

    /// The next stored frame, checked, or nil at the end of the stream.
    public func nextStored() throws -> StoredFrame? {
        guard let f = try nextUnverified() else { return nil }
        try verify(f)
        return f
    }

    /// Checks the CRC (and that a zstd payload is one whole zstd frame of the
    /// right size) of a frame read by `nextUnverified`.
    public func verify(_ f: StoredFrame) throws {
        let computed = f.computedCRC ?? {
            var c = CRC32()
            c.update(f.head)
            c.update(f.payload)
            return c.value
        }()
        guard computed == f.crc else {
            throw fail("CRC mismatch (stored \(hex(f.crc)), computed \(hex(computed)))", f.offset)
        }
        if f.zstd, let e = f.payload.withUnsafeBytes({ Zstd.check($0, expected: Frame.byteCount(dtype: f.dtype, dims: f.dims)!) }) {
            throw fail(e.message, f.offset)
        }
    }

    /// The next frame with every header field checked but its CRC not yet
    /// compared (so that reading and checking can run on different threads).
    /// The CRC is computed as the payload arrives, a piece at a time while
    /// each piece is still in the cache, not in a second pass over memory.
    public func nextUnverified() throws -> StoredFrame? {
        guard let h = try nextHeader(parseMeta: true) else { return nil }
        var computed = CRC32()
        computed.update(h.head)
        let payload = try readPayload(h.stored, frame: h.at, crc: &computed)
        var crcBytes: UInt32 = 0
        try readExactly(4, into: &crcBytes, frame: h.at)
        let crc = UInt32(littleEndian: crcBytes)
        return StoredFrame(dtype: h.dtype, dims: h.dims, meta: h.meta, zstd: h.zstd, head: h.head, payload: payload, crc: crc, computedCRC: computed.value,
                           offset: h.at, stream: source.name)
    }

    /// Passes over the next frame, reading its header (every field but the
    /// metadata checked) and seeking past its payload where the stream can
    /// seek: a cheap count of frames. False at the end of the stream.
    public func skipNext() throws -> Bool {
        guard let h = try nextHeader(parseMeta: false) else { return false }
        if try source.skip(h.stored + 4) < h.stored + 4 { throw fail("stream ends inside a frame", h.at) }
        return true
    }

    private struct Header {
        var dtype: DType, dims: [Int], meta: JSONObject, zstd: Bool, head: [UInt8], stored: Int, at: Int
    }

    /// A frame's header up to and including `payload_len`, checked.
    private func nextHeader(parseMeta: Bool) throws -> Header? {
        if try source.atEnd() { return nil }
        let at = source.offset
        var head = try readBytes(12, frame: at)
        guard head[0..<4].elementsEqual("BSQT".utf8) else {
            if at == 0, AudioLoader.looksLikeAudio(Array(head)) {
                throw fail("an audio file, not BSQT frames: make frames of it with mel first (mel a.wav | …)", at)
            }
            throw fail("bad magic", at)
        }
        guard head[4] == 1 else { throw fail("unknown version \(head[4])", at) }
        guard let dtype = DType(rawValue: head[5]) else { throw fail("unknown dtype code \(head[5])", at) }
        let rank = Int(head[6])
        guard rank <= Frame.maxRank else { throw fail("rank \(rank) > 8", at) }
        let flags = head[7]
        guard flags & ~1 == 0 else { throw fail("unknown flag bits 0x\(String(flags, radix: 16))", at) }
        let metaLen = Int(head.loadLE(UInt32.self, at: 8))
        guard metaLen <= FrameReader.maxMeta else { throw fail("metadata of \(metaLen) bytes exceeds 1 MiB", at) }

        let dimBytes = try readBytes(8 * rank, frame: at)
        head += dimBytes
        var dims: [Int] = []
        for i in 0..<rank {
            let d = dimBytes.loadLE(UInt64.self, at: 8 * i)
            guard d <= UInt64(Int.max) else { throw fail("dimension \(d) is absurd", at) }
            dims.append(Int(d))
        }
        guard let expected = Frame.byteCount(dtype: dtype, dims: dims), expected <= FrameReader.maxPayload else {
            throw fail("dims \(dims) of \(dtype.name) are too large", at)
        }

        let metaBytes = try readBytes(metaLen, frame: at)
        head += metaBytes
        var meta = JSONObject()
        if parseMeta {
            do {
                guard case .object(let o) = try JSONValue.parse(metaBytes) else {
                    throw fail("metadata is not a JSON object", at)
                }
                meta = o
            } catch let e as JSONValue.ParseError {
                throw fail("metadata is not a JSON object (\(e))", at)
            }
        }

        let lenBytes = try readBytes(8, frame: at)
        head += lenBytes
        let stored = lenBytes.loadLE(UInt64.self, at: 0)
        let zstd = flags & 1 != 0
        if zstd {
            guard stored <= UInt64(Zstd.bound(expected)) else {
                throw fail("compressed payload of \(stored) bytes is larger than \(expected) bytes can compress to", at)
            }
            // a zstd block of at most 128 KiB takes at least 4 bytes (an RLE block): a payload cannot hold more than that
            guard UInt64(expected) <= stored * 32768 + 131_072 else {
                throw fail("compressed payload of \(stored) bytes cannot hold the \(expected) bytes of \(dtype.name) \(dims)", at)
            }
        } else {
            guard stored == UInt64(expected) else {
                throw fail("payload of \(stored) bytes, expected \(expected) for \(dtype.name) \(dims)", at)
            }
        }
        return Header(dtype: dtype, dims: dims, meta: meta, zstd: zstd, head: head, stored: Int(stored), at: at)
    }

    /// Reads a payload, adding it to `crc`; a large one is read in growing
    /// pieces so that a stream that claims more than it holds never makes us
    /// allocate the claim.
    private func readPayload(_ n: Int, frame: Int, crc: inout CRC32) throws -> [UInt8] {
        let piece = 1 << 26
        if n <= piece { return try readBytes(n, frame: frame, crc: &crc) }
        var out = [UInt8]()
        while out.count < n {
            let k = min(n - out.count, max(piece, out.count))
            out += try readBytes(k, frame: frame, crc: &crc)
        }
        return out
    }

    /// Reads `n` bytes in reads of at most 256 KiB, each added to `crc` right after it arrives.
    private func readBytes(_ n: Int, frame: Int, crc: inout CRC32) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            var done = 0
            while done < n {
                let k = min(n - done, 1 << 18)
                try readExactly(k, into: buf.baseAddress! + done, frame: frame)
                crc.update(UnsafeRawBufferPointer(start: buf.baseAddress! + done, count: k))
                done += k
            }
            count = n
        }
    }

    /// The next frame, decompressed and checked, or nil at the end.
    public func next() throws -> Frame? {
        try nextStored()?.decode()
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}

extension Array where Element == UInt8 {
    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
