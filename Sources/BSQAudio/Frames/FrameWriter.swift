#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered frame output to a file descriptor (standard output by default).
/// A reader that goes away is `BrokenPipe` (the tools then end with SIGPIPE,
/// as `cat` does).
public final class FrameWriter {
    public let fd: Int32
    public let name: String
    /// Compress payloads written from `Frame`s with zstd.
    public var zstd: Bool
    public var zstdLevel: Int32 = 3
    private var buffer: [UInt8] = []
    private let capacity = 1 << 20

    public init(fd: Int32 = 1, name: String = "standard output", zstd: Bool = false) {
        self.fd = fd
        self.name = name
        self.zstd = zstd
        buffer.reserveCapacity(capacity)
    }

    deinit { try? flush() }

    /// Writes a frame, compressing its payload when `zstd` is set.
    public func write(_ frame: Frame) throws {
        let payload = zstd ? try frame.payload.withUnsafeBytes { try Zstd.compress($0, level: zstdLevel) } : frame.payload
        let head = FrameWriter.header(dtype: frame.dtype, dims: frame.dims, meta: frame.meta, zstd: zstd, payloadLength: payload.count)
        var c = CRC32()
        c.update(head)
        c.update(payload)
        try put(head)
        try put(payload)
        try put(c.value)
    }

    /// Writes a frame exactly as it was read.
    public func write(_ frame: StoredFrame) throws {
        try put(frame.head)
        try put(frame.payload)
        try put(frame.crc)
    }

    /// The bytes from magic to `payload_len`.
    public static func header(dtype: DType, dims: [Int], meta: JSONObject, zstd: Bool, payloadLength: Int) -> [UInt8] {
        let metaBytes = Array(JSONValue.object(meta).serialized().utf8)
        var h: [UInt8] = Array("BSQT".utf8) + [1, dtype.rawValue, UInt8(dims.count), zstd ? 1 : 0]
        h.reserveCapacity(12 + 8 * dims.count + metaBytes.count + 8)
        h.appendLE(UInt32(metaBytes.count))
        for d in dims { h.appendLE(UInt64(d)) }
        h += metaBytes
        h.appendLE(UInt64(payloadLength))
        return h
    }

    /// The whole encoded frame as bytes.
    public static func encode(_ frame: Frame, zstd: Bool = false) throws -> [UInt8] {
        try frame.payload.withUnsafeBytes {
            try encode(dtype: frame.dtype, dims: frame.dims, meta: frame.meta, payload: $0, zstd: zstd)
        }
    }

    /// The encoded frame of a payload held anywhere (one copy, CRC over the result).
    public static func encode(dtype: DType, dims: [Int], meta: JSONObject, payload: UnsafeRawBufferPointer,
                              zstd: Bool = false) throws -> [UInt8] {
        let packed = zstd ? try Zstd.compress(payload) : nil
        let length = packed?.count ?? payload.count
        var bytes = header(dtype: dtype, dims: dims, meta: meta, zstd: zstd, payloadLength: length)
        bytes.reserveCapacity(bytes.count + length + 4)
        if let packed { bytes += packed } else { bytes.append(contentsOf: payload) }
        bytes.appendLE(CRC32.checksum(bytes))
        return bytes
    }

    private func put(_ v: UInt32) throws {
        var b: [UInt8] = []
        b.appendLE(v)
        try put(b)
    }

    private func put(_ bytes: [UInt8]) throws {
        if buffer.count + bytes.count > capacity { try flush() }
        if bytes.count >= capacity {
            try bytes.withUnsafeBytes { try writeAll($0) }
        } else {
            buffer += bytes
        }
    }

    /// Writes bytes that are not a frame (text), bypassing the buffer after flushing it.
    public func writeRaw(_ bytes: [UInt8]) throws {
        try flush()
        try bytes.withUnsafeBytes { try writeAll($0) }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let r = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if r < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { throw BrokenPipe(name: name) }
                throw BSQError("\(name): write failed: \(String(cString: strerror(errno)))")
            }
            done += r
        }
    }
}

/// A write to a pipe whose reader has gone (EPIPE, when SIGPIPE is not fatal).
public struct BrokenPipe: Error, Sendable {
    public let name: String
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
