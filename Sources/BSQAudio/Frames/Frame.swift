/// One tensor of a BSQT stream (bsqt(5)): element type, dims, JSON
/// metadata and the uncompressed little-endian payload.
public struct Frame: Sendable {
    public var dtype: DType
    public var dims: [Int]
    public var meta: JSONObject
    /// Row-major element bytes, `count × dtype.size` of them.
    public var payload: [UInt8]

    public static let maxRank = 8

    public init(dtype: DType, dims: [Int], meta: JSONObject = JSONObject(), payload: [UInt8]) {
        precondition(dims.count <= Frame.maxRank, "rank \(dims.count) > 8")
        precondition(Frame.byteCount(dtype: dtype, dims: dims) == payload.count, "payload size does not match dims")
        self.dtype = dtype
        self.dims = dims
        self.meta = meta
        self.payload = payload
    }

    /// Number of elements (1 for rank 0).
    public var count: Int { dims.reduce(1, *) }

    /// `product(dims) × size`, or nil when it overflows (whatever the order
    /// of the dims: a zero dim makes an empty tensor).
    public static func byteCount(dtype: DType, dims: [Int]) -> Int? {
        if dims.contains(0) && dims.allSatisfy({ $0 >= 0 }) { return 0 }
        var n = dtype.size
        for d in dims {
            guard d >= 0 else { return nil }
            let (m, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = m
        }
        return n
    }

    public var kind: String? { meta["kind"]?.string }
    public var key: String? { meta["key"]?.string }
}

// MARK: - Typed access

/// Element types a frame payload can be viewed as.
public protocol FrameElement: BitwiseCopyable { static var dtype: DType { get } }
extension Float: FrameElement { public static var dtype: DType { .f32 } }
extension Double: FrameElement { public static var dtype: DType { .f64 } }
extension UInt8: FrameElement { public static var dtype: DType { .u8 } }
extension Int16: FrameElement { public static var dtype: DType { .i16 } }
extension Int32: FrameElement { public static var dtype: DType { .i32 } }
extension UInt32: FrameElement { public static var dtype: DType { .u32 } }
extension Int64: FrameElement { public static var dtype: DType { .i64 } }
extension UInt64: FrameElement { public static var dtype: DType { .u64 } }

extension Frame {
    /// A frame holding `values` (row-major, `product(dims)` of them).
    public init<T: FrameElement>(_ values: [T], dims: [Int], meta: JSONObject = JSONObject()) {
        let bytes = values.withUnsafeBytes { Array($0) }
        self.init(dtype: T.dtype, dims: dims, meta: meta, payload: bytes)
    }

    /// The payload as elements of `T`; throws when the dtype differs.
    public func values<T: FrameElement>(as _: T.Type = T.self) throws -> [T] {
        guard dtype == T.dtype else {
            throw BSQError("expected \(T.dtype.name) data, got \(dtype.name)")
        }
        return payload.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: count) { buf, n in
                UnsafeMutableRawBufferPointer(buf).copyMemory(from: raw)
                n = count
            }
        }
    }

    /// Short description used in messages: `key` or `frame N`.
    public func label(index: Int) -> String { "frame \(index)" + (key.map { " (\($0))" } ?? "") }
}
