/// Reads the frames of several inputs in turn (`-` or none means standard input).
public struct FrameInputs {
    public let paths: [String]
    public init(_ paths: [String]) { self.paths = paths.isEmpty ? ["-"] : paths }

    /// Calls `body` with each stored frame and its index in the whole sequence.
    public func forEachStored(_ body: (StoredFrame, Int) throws -> Void) throws {
        var index = 0
        for path in paths {
            let reader = try FrameReader(path: path)
            while let f = try reader.nextStored() {
                try body(f, index)
                index += 1
            }
        }
    }

    /// Calls `body` with each decoded frame and its index.
    public func forEach(_ body: (Frame, Int) throws -> Void) throws {
        try forEachStored { s, i in try body(try s.decode(), i) }
    }
}
