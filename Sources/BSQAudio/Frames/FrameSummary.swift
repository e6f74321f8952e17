/// What `bsq-tensor info` says about a frame.
public struct FrameSummary {
    public let frame: StoredFrame
    public let index: Int

    public init(_ frame: StoredFrame, index: Int) {
        self.frame = frame
        self.index = index
    }

    var dimsText: String { "[" + frame.dims.map(String.init).joined(separator: ",") + "]" }

    /// Tab-separated: index, key, kind, dtype, dims, stored bytes, compression.
    public func text() -> String {
        let key = frame.meta["key"]?.string ?? "-"
        let kind = frame.meta["kind"]?.string ?? "-"
        return [String(index), key, kind, frame.dtype.name, dimsText, String(frame.storedSize), frame.zstd ? "zstd" : "plain"]
            .joined(separator: "\t")
    }

    /// One JSON object with the same facts and the whole metadata.
    public func json() -> String {
        var o = JSONObject()
        o["index"] = JSONValue(index)
        o["offset"] = JSONValue(frame.offset)
        o["key"] = frame.meta["key"] ?? .null
        o["kind"] = frame.meta["kind"] ?? .null
        o["dtype"] = .string(frame.dtype.name)
        o["dims"] = JSONValue(frame.dims)
        o["stored_bytes"] = JSONValue(frame.storedSize)
        o["payload_bytes"] = JSONValue(frame.payload.count)
        o["zstd"] = .bool(frame.zstd)
        o["meta"] = .object(frame.meta)
        return JSONValue.object(o).serialized()
    }
}

/// Lines of text on standard output, buffered; a closed reader ends the process quietly.
public struct TextOutput {
    private var buffer: [UInt8] = []
    public init() {}

    public mutating func line(_ s: String) {
        buffer += Array(s.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    public mutating func flush() {
        guard !buffer.isEmpty else { return }
        let w = FrameWriter(fd: 1)
        try? w.writeRaw(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A `--meta` argument: a JSON object, or `@FILE` holding one.
public enum MetadataArgument {
    public static func parse(_ text: String) throws -> JSONObject {
        var source = text
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            source = String(decoding: try ByteSource(path: path).readAll(limit: FrameReader.maxMeta), as: UTF8.self)
        }
        guard case .object(let o)? = try? JSONValue.parse(source) else {
            throw BSQError("--meta must be a JSON object (got \(text.prefix(60)))")
        }
        return o
    }
}
