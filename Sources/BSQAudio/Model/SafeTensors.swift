#if canImport(Glibc)
import Glibc
#endif

/// The safetensors format: an 8-byte little-endian header length, a JSON
/// header (`__metadata__` of strings, and per tensor its dtype, shape and
/// byte range), then the raw little-endian data. F32 is read and written;
/// F16 and BF16 are read and widened.
public struct SafeTensors {
    public struct Entry: Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let range: Range<Int>
        public var count: Int { shape.contains(0) ? 0 : shape.reduce(1, *) }     // the loader checked the product fits
    }

    public let path: String
    public let metadata: [String: String]

    /// The configuration a checkpoint carries in the metadata `key`, decoded
    /// by `decode`, errors naming the file. The metadata's `format` must be
    /// `format` or "pt" (PyTorch's, as Hugging Face writes it); a file without
    /// `format` is read: `safetensors.torch.save_file` writes none unless
    /// asked, and the configuration tells what the file holds.
    public func configuration<C>(_ key: String, format: String, missing: String, decode: (String) throws -> C) throws -> C {
        guard let text = metadata[key] else { throw BSQError("\(path): \(missing)") }
        if let f = metadata["format"], f != "pt", f != format {
            throw BSQError("\(path): safetensors format \"\(f)\", expected \"\(format)\" or \"pt\"")
        }
        do { return try decode(text) } catch let e as BSQError { throw BSQError("\(path): \(e.message)") }
    }
    public let entries: [Entry]
    /// The whole file, mapped read-only.
    public let file: MappedFile
    private var data: UnsafeRawBufferPointer { file.bytes }
    private let index: [String: Int]

    static let sizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        func bad(_ why: String) -> BSQError { BSQError("\(path): not a safetensors file (\(why))") }
        guard bytes.count >= 8 else { throw bad("only \(bytes.count) bytes") }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length >= 2, length <= 100 << 20, length <= UInt64(bytes.count - 8) else {
            throw bad("header length \(length), the file has \(bytes.count) bytes and the limit is \(100 << 20)")
        }
        let n = Int(length)
        let header: JSONObject
        do {
            guard case .object(let h) = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + n)])) else { throw bad("header is not a JSON object") }
            header = h
        } catch let e as BSQError { throw bad("header: \(e.message)") }
        let dataStart = 8 + n
        var meta: [String: String] = [:]
        var entries: [Entry] = []
        for (name, v) in header.pairs {
            if name == "__metadata__" {
                guard case .object(let m) = v else { throw bad("__metadata__ is not an object") }
                for (k, s) in m.pairs { meta[k] = s.string ?? s.serialized() }
                continue
            }
            guard case .object(let t) = v, let dtype = t["dtype"]?.string,
                  let shape = t["shape"]?.array?.compactMap(\.int), shape.count == t["shape"]?.array?.count,
                  let off = t["data_offsets"]?.array?.compactMap(\.int), off.count == 2 else {
                throw bad("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let size = SafeTensors.sizes[dtype] else { throw BSQError("\(path): tensor '\(name)' has unknown dtype \(dtype)") }
            // the element count fits an Int, and so must its bytes (2^51 F16 elements once overflowed here)
            guard shape.allSatisfy({ $0 >= 0 }), let count = Frame.byteCount(dtype: .u8, dims: shape),
                  case let (byteCount, false) = count.multipliedReportingOverflow(by: size),
                  off[0] >= 0, off[0] <= off[1], dataStart + off[1] <= bytes.count,
                  off[1] - off[0] == byteCount else {
                throw bad("tensor '\(name)' has shape \(shape) and bytes \(off[0])..<\(off[1]) that do not fit")
            }
            guard off[0] % size == 0 else { throw bad("tensor '\(name)' starts at byte \(off[0]), not a multiple of its \(size)-byte elements") }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, range: (dataStart + off[0])..<(dataStart + off[1])))
        }
        // the tensors tile the data exactly, as the format requires: no overlap, no hole, nothing after
        var end = dataStart
        for e in entries.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard e.range.lowerBound == end else {
                throw bad(e.range.lowerBound < end ? "tensor '\(e.name)' overlaps another" : "a gap of \(e.range.lowerBound - end) bytes before tensor '\(e.name)'")
            }
            end = e.range.upperBound
        }
        guard end == bytes.count else { throw bad("\(bytes.count - end) bytes after the last tensor") }
        metadata = meta
        self.entries = entries
        var ix: [String: Int] = [:]
        for (i, e) in entries.enumerated() { ix[e.name] = i }
        index = ix
    }

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// SHA-256 of the whole file, as hex.
    public var sha256: String { SHA256.hex(data) }

    /// The same, remembered from an earlier load of this very file
    /// (`DigestCache`), else computed on a thread of its own from now on.
    public func backgroundSHA256() -> BackgroundDigest { BackgroundDigest(data, owner: file, identity: file.identity) }

    /// Throws unless every value of an F32 tensor is a finite number (read in place).
    /// Sixteen values at a time without a branch: a float is not finite when its
    /// exponent bits are all set, and adding 2²³ to those bits alone carries into
    /// bit 31 exactly then; the sums are OR-ed, and only a block whose OR has
    /// bit 31 set is searched value by value for the message.
    public func checkFinite(_ e: Entry) throws {
        let p = data.baseAddress! + e.range.lowerBound
        let block = 1 << 14
        var start = 0
        while start < e.count {
            let n = min(block, e.count - start)
            var bad = false
#if _endian(little)
            typealias U = SIMD16<UInt32>
            var acc = U(repeating: 0)
            var i = 0
            while i + 16 <= n {
                let bits = p.loadUnaligned(fromByteOffset: 4 * (start + i), as: U.self)
                acc |= (bits & 0x7F80_0000) &+ 0x0080_0000
                i += 16
            }
            bad = (acc & 0x8000_0000) != U(repeating: 0)
            for j in i..<n where !Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * (start + j), as: UInt32.self)).isFinite { bad = true }
#else
            bad = true
#endif
            if bad {
                for i in start..<(start + n) {
                    let v = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    if !v.isFinite { throw BSQError("\(path): tensor '\(e.name)' holds \(v) at element \(i) (weights must be finite numbers)") }
                }
            }
            start += n
        }
    }

    /// A tensor's values as floats (F16 and BF16 widened); throws for other
    /// dtypes and for values that are not finite.
    public func floats(_ e: Entry, into out: UnsafeMutablePointer<Float>) throws {
        do {
            let p = data.baseAddress! + e.range.lowerBound
            switch e.dtype {
            case "F32":
                UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: e.count * 4)
            case "F16":
                for i in 0..<e.count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
            case "BF16":
                for i in 0..<e.count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            default: break
            }
        }
        if !["F32", "F16", "BF16"].contains(e.dtype) {
            throw BSQError("\(path): tensor '\(e.name)' is \(e.dtype), expected F32, F16 or BF16")
        }
        if let bad = (0..<e.count).first(where: { !out[$0].isFinite }) {
            throw BSQError("\(path): tensor '\(e.name)' holds \(out[bad]) at element \(bad) (weights must be finite numbers)")
        }
    }

    /// Writes tensors (in the order given) as F32, or as F16 (rounded to
    /// nearest even) with `half`, with string metadata, atomically.
    public static func write(to path: String, metadata: [(String, String)],
                             tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)], half: Bool = false) throws {
        let width = half ? 2 : 4
        var header = JSONObject()
        var meta = JSONObject()
        for (k, v) in metadata { meta[k] = .string(v) }
        header["__metadata__"] = .object(meta)
        var offset = 0
        for t in tensors {
            let n = t.values.count * width
            var e = JSONObject()
            e["dtype"] = half ? "F16" : "F32"
            e["shape"] = JSONValue(t.shape)
            e["data_offsets"] = JSONValue([offset, offset + n])
            header[t.name] = .object(e)
            offset += n
        }
        var text = Array(JSONValue.object(header).serialized().utf8)
        while (8 + text.count) % 8 != 0 { text.append(0x20) }
        var head = [UInt8]()
        head.appendLE(UInt64(text.count))
        head += text
        let file = try AtomicFile(path: path)
        do {
            try file.write(head)
            for t in tensors {
                if half {
                    let h = t.values.map { Float16($0) }
                    try h.withUnsafeBytes { try file.write(Array($0)) }
                } else {
                    try file.write(Array(UnsafeRawBufferPointer(t.values)))
                }
            }
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }
}

/// A file mapped read-only into memory for as long as the value lives.
public final class MappedFile: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    /// Which file and which version of it: device, inode, size, and the
    /// modification and status-change times in nanoseconds (the kernel moves
    /// the latter on every change and no one can set it back).
    public let identity: String

    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw BSQError("\(path): is a folder") }
        let size = Int(st.st_size)
        identity = [UInt64(st.st_dev), UInt64(st.st_ino), UInt64(size),
                    UInt64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ UInt64(st.st_mtim.tv_nsec),
                    UInt64(st.st_ctim.tv_sec) &* 1_000_000_000 &+ UInt64(st.st_ctim.tv_nsec)].map(String.init).joined(separator: "-")
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw BSQError("\(path): \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let p = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: p), bytes.count) }
    }
}
