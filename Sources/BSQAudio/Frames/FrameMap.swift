/// Transforms every frame of a stream into an encoded frame, `jobs` frames at
/// a time (`OrderedParallel`), and writes the results in stream order
/// whatever `jobs` is. The first frame whose transform fails stops the run
/// with its error, after every frame before it has been written.
public struct FrameMap: Sendable {
    public var jobs: Int

    public init(jobs: Int) { self.jobs = max(1, jobs) }

    /// Runs `transform(frame, index)` over the frames of `inputs`; returns how many were written.
    @discardableResult
    public func run(_ inputs: FrameInputs, to writer: FrameWriter,
                    transform: @escaping @Sendable (StoredFrame, Int) throws -> [UInt8]) throws -> Int {
        var written = 0
        try OrderedParallel.run(jobs: jobs, feed: { submit in
            try inputs.forEachStored { frame, index in try submit((frame, index)) }
        }, work: { frame, index in
            Result { try transform(frame, index) }
        }, consume: { _, result in
            try writer.writeRaw(try result.get())
            written += 1
        })
        return written
    }

    /// Runs `transform` over the decoded frames and writes what it makes, its
    /// payload compressed with zstd when `zstd`. Its errors name the frame.
    @discardableResult
    public func run(_ inputs: FrameInputs, to writer: FrameWriter, zstd: Bool,
                    transform: @escaping @Sendable (Frame) throws -> Frame) throws -> Int {
        try run(inputs, to: writer) { stored, index in
            let frame = try stored.decode()
            do {
                return try FrameWriter.encode(try transform(frame), zstd: zstd)
            } catch let e as BSQError {
                throw BSQError("\(frame.label(index: index)): \(e.message)")
            }
        }
    }
}
