/// `bsq-tensor cat`: the frames of the inputs with one of `keys` (any key
/// when empty) and of `kind` (any when nil), copied as they are stored, or
/// recompressed when `zstd` says otherwise.
public struct FrameSelection {
    public var keys: [String] = []
    public var kind: String?
    /// Compress (true) or store plain (false) every payload; nil keeps each as it is.
    public var zstd: Bool?

    public init() {}

    /// Copies the selected frames to `out`. A key that matches nothing is an
    /// error (a typo, or keys written another way), not an empty selection.
    public func copy(_ inputs: FrameInputs, to out: FrameWriter) throws {
        var found = Set<String>(), read = 0
        try inputs.forEachStored { f, _ in
            read += 1
            if !keys.isEmpty {
                guard let key = f.meta["key"]?.string, keys.contains(key) else { return }
                found.insert(key)
            }
            if let kind, f.meta["kind"]?.string != kind { return }
            if let zstd, zstd != f.zstd {
                try out.write(try f.decode())
            } else {
                try out.write(f)
            }
        }
        let missing = keys.filter { !found.contains($0) }.map { "'\($0)'" }
        if !missing.isEmpty {
            throw BSQError("no frame has the key \(missing.joined(separator: ", ")) (\(read) frame\(read == 1 ? "" : "s") read)")
        }
    }
}
