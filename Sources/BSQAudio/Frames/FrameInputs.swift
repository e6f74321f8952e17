import Foundation

/// Reads the frames of several inputs in turn (`-` or none means standard input).
///
/// Reading, checking and using frames overlap: one thread reads frames, a
/// second checks their CRCs, and the caller's thread gets them in order, so a
/// pass-through (`bsq-tensor cat`) runs near the speed of the pipe. At most
/// `bufferBytes` wait between stages (always at least one frame); an error
/// reaches the caller after every frame before it. The checker (CRC and
/// zstd) is joined before `forEachStored` returns or throws; the reader only
/// calls read(2), and is not waited for when it is blocked on a silent pipe.
public struct FrameInputs {
    public let paths: [String]
    public var bufferBytes = 64 << 20

    public init(_ paths: [String]) { self.paths = paths.isEmpty ? ["-"] : paths }

    /// The part of the frames read (`select`): nil for all of them.
    public private(set) var part: Part?

    /// A part of the inputs' frames, found by counting them.
    public struct Part: Sendable {
        public let shard: Shard
        /// Frames in each path, in order.
        public let counts: [Int]
        /// Frames in all the paths.
        public var total: Int { counts.reduce(0, +) }
        /// Indices, in the whole sequence, of the frames read.
        public var range: Range<Int> { shard.range(of: total) }
    }

    /// Reads only `shard`'s part of the frames (`Shard.range` of all the paths'
    /// frames), which keep their indices in the whole sequence. Counts the
    /// frames first, a pass over their headers that seeks past payloads:
    /// the paths must be files that can be read twice, not standard input or a pipe.
    public mutating func select(_ shard: Shard) throws {
        var counts: [Int] = []
        for path in paths {
            let source = try ByteSource(path: path)
            var st = stat()
            guard path != "-", fstat(source.fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
                throw BSQError("--shard \(shard): \(path == "-" ? "standard input" : path) cannot be read twice (once to count its frames): give frame files")
            }
            let r = FrameReader(source)
            var n = 0
            while try r.skipNext() { n += 1 }
            counts.append(n)
        }
        part = Part(shard: shard, counts: counts)
    }

    /// Frames never come from a terminal: say so instead of waiting for them.
    public func checkStandardInput() throws {
        if paths.contains("-"), isatty(0) != 0 {
            throw BSQError("standard input is a terminal; this tool reads BSQT frames: give frame files, or pipe them in (mel a.wav | …)")
        }
    }

    /// Calls `body` with each checked stored frame and its index in the whole sequence.
    public func forEachStored(_ body: (StoredFrame, Int) throws -> Void) throws {
        try checkStandardInput()
        let read = FrameQueue(limit: bufferBytes), checked = FrameQueue(limit: bufferBytes)
        let paths = self.paths, part = self.part
        let wanted = part?.range ?? 0..<Int.max
        _ = WorkerThread(stackSize: 1 << 20) {
            do {
                var index = 0
                for (k, path) in paths.enumerated() {
                    // a file wholly before the part is not opened again
                    if let part, index + part.counts[k] <= wanted.lowerBound { index += part.counts[k]; continue }
                    if index >= wanted.upperBound { break }
                    let r = try FrameReader(path: path)
                    while index < wanted.lowerBound, try r.skipNext() { index += 1 }
                    while index < wanted.upperBound, let f = try r.nextUnverified() {
                        index += 1
                        guard read.put(.frame(f, r)) else { return }
                    }
                }
                read.finish()
            } catch {
                _ = read.put(.failure(error))
                read.finish()
            }
        }
        let checker = WorkerThread(stackSize: 1 << 20) {
            while let item = read.take() {
                var out = item
                if case .frame(let f, let r) = item {
                    do { try r.verify(f) } catch { out = .failure(error) }
                }
                guard checked.put(out) else { break }
                if case .failure = out { break }
            }
            read.cancel()
            checked.finish()
        }
        defer {
            checked.cancel()
            read.cancel()
            checker.join()
        }
        var index = wanted.lowerBound
        while let item = checked.take() {
            switch item {
            case .frame(let f, _):
                try body(f, index)
                index += 1
            case .failure(let e):
                throw e
            }
        }
    }

    /// Calls `body` with each decoded frame and its index.
    public func forEach(_ body: (Frame, Int) throws -> Void) throws {
        try forEachStored { s, i in try body(try s.decode(), i) }
    }
}

/// A bounded hand-over between two threads, measured in payload bytes.
final class FrameQueue: @unchecked Sendable {
    enum Item {
        case frame(StoredFrame, FrameReader)
        case failure(Error)
        var bytes: Int { if case .frame(let f, _) = self { return f.payload.count } else { return 0 } }
    }

    private let cond = NSCondition()
    private var items: [Item?] = []
    private var head = 0
    private var bytes = 0
    private var finished = false
    private var cancelled = false
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Adds an item, waiting while the queue is full; false once the consumer has gone.
    func put(_ item: Item) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while !cancelled && head < items.count && bytes + item.bytes > limit { cond.wait() }
        if cancelled { return false }
        items.append(item)
        bytes += item.bytes
        cond.broadcast()
        return true
    }

    /// The next item, or nil when the producer has finished and all is taken.
    func take() -> Item? {
        cond.lock(); defer { cond.unlock() }
        while head == items.count && !finished && !cancelled { cond.wait() }
        if head == items.count || cancelled { return nil }
        let item = items[head]!
        items[head] = nil
        head += 1
        if head > 64 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        bytes -= item.bytes
        cond.broadcast()
        return item
    }

    func finish() { cond.lock(); finished = true; cond.broadcast(); cond.unlock() }
    func cancel() { cond.lock(); cancelled = true; cond.broadcast(); cond.unlock() }
}
