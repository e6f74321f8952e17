#if canImport(Glibc)
import Glibc
#endif

/// `bsq-tensor to-npy` and `from-npy`: frames to `.npy` files and back.
public struct NpyExport {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    /// Writes KEY.npy and KEY.json for every frame; all files appear only once the whole stream has read cleanly.
    public func run(_ inputs: FrameInputs) throws {
        var pending: [AtomicFile] = []
        var seen = Set<String>()
        defer { for f in pending { f.discard() } }
        try makeDirectories(folder)
        try inputs.forEach { frame, index in
            let name = try NpyExport.fileName(for: frame, index: index)
            guard seen.insert(name).inserted else { throw BSQError("two frames have the key \(name)") }
            let base = folder + "/" + name
            if let slash = base.lastIndex(of: "/") { try makeDirectories(String(base[..<slash])) }
            let npy = try AtomicFile(path: base + ".npy")
            pending.append(npy)
            try npy.write(Npy.encode(frame))
            let json = try AtomicFile(path: base + ".json")
            pending.append(json)
            try json.write(Array((JSONValue.object(frame.meta).serialized() + "\n").utf8))
        }
        for f in pending { try f.commit() }
        pending.removeAll()
    }

    /// A safe relative file name for a frame: its key, or `frame-NNNNNN`.
    static func fileName(for frame: Frame, index: Int) throws -> String {
        guard let key = frame.key, !key.isEmpty, key != "-" else {
            let n = String(index)
            return "frame-" + String(repeating: "0", count: max(0, 6 - n.count)) + n
        }
        let parts = key.split(separator: "/", omittingEmptySubsequences: true)
        if key.hasPrefix("/") || parts.contains(where: { $0 == ".." || $0 == "." }) || parts.isEmpty {
            throw BSQError("key \(key) cannot be a file name inside the output folder")
        }
        return parts.joined(separator: "/")
    }

    /// A frame from a `.npy` file: metadata `meta`, with `kind` and `key` set when given
    /// (without `meta`, the key is the file name without `.npy`).
    public static func frame(fromNpy path: String, meta: JSONObject?, kind: String?, key: String?) throws -> Frame {
        let bytes = try ByteSource(path: path).readAll()
        var frame = try Npy.decode(bytes, name: path)
        var m = meta ?? JSONObject()
        if let kind { m["kind"] = .string(kind) }
        if let key {
            m["key"] = .string(key)
        } else if meta == nil {
            let base = path == "-" ? "-" : String(path.split(separator: "/").last ?? "")
            m["key"] = .string(base.hasSuffix(".npy") ? String(base.dropLast(4)) : base)
        }
        frame.meta = m
        return frame
    }
}

/// `mkdir -p`.
public func makeDirectories(_ path: String) throws {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        current += "/" + part
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw BSQError("\(current): \(String(cString: strerror(errno)))")
        }
    }
}
