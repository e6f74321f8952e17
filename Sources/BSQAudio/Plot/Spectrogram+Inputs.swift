extension SpectrogramPlot.Panel {
    /// The mel frame of the stream at `path` (`-`: standard input) that is
    /// at `index` (counting from 0), or that has `key`, titled `title` or
    /// else `path: key`. Reading stops at that frame.
    public static func read(path: String, index: Int = 0, key: String? = nil, title: String? = nil) throws -> Self {
        let reader = try FrameReader(path: path)
        let name = path == "-" ? "stdin" : path
        var i = 0
        while let stored = try reader.nextStored() {
            defer { i += 1 }
            if let key {
                guard stored.meta["key"]?.string == key else { continue }
            } else if i != index {
                continue
            }
            let frame = try stored.decode()
            let mel: MelFrame
            do { mel = try MelFrame(frame) } catch let e as BSQError {
                throw BSQError("\(name): \(frame.label(index: i)): \(e.message)")
            }
            return Self(mel, title: title ?? (mel.key.map { "\(name): \($0)" } ?? name))
        }
        if let key { throw BSQError("\(name): no frame has key \(key)") }
        throw BSQError("\(name): no frame \(index) (the stream has \(i))")
    }
}
