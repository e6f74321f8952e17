/// Transforms every frame of a stream into an encoded frame, `jobs` frames at
/// a time, and writes the results in stream order whatever `jobs` is.
///
/// Frames are gathered in batches (at most `4 · jobs` frames or `batchBytes`
/// stored bytes, at least one frame), each batch is transformed in parallel
/// and written in order. The first frame whose transform fails stops the run
/// with its error, after every frame before it has been written.
public struct FrameMap: Sendable {
    public var jobs: Int
    public var batchBytes = 64 << 20

    public init(jobs: Int) { self.jobs = max(1, jobs) }

    /// Runs `transform(frame, index)` over the frames of `inputs`; returns how many were written.
    @discardableResult
    public func run(_ inputs: FrameInputs, to writer: FrameWriter,
                    transform: @escaping @Sendable (StoredFrame, Int) throws -> [UInt8]) throws -> Int {
        var written = 0
        if jobs == 1 {
            try inputs.forEachStored { f, i in
                try writer.writeRaw(try transform(f, i))
                written += 1
            }
            return written
        }
        var batch: [StoredFrame] = []
        var first = 0
        var bytes = 0
        func drain() throws {
            let items = batch
            let base = first
            try OrderedParallel.run(count: items.count, jobs: jobs, work: { i in
                Result { try transform(items[i], base + i) }
            }, consume: { _, result in
                try writer.writeRaw(try result.get())
                written += 1
            })
            first += batch.count
            batch.removeAll(keepingCapacity: true)
            bytes = 0
        }
        try inputs.forEachStored { f, _ in
            batch.append(f)
            bytes += f.storedSize
            if batch.count >= 4 * jobs || bytes >= batchBytes { try drain() }
        }
        if !batch.isEmpty { try drain() }
        return written
    }
}
