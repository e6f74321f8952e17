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
