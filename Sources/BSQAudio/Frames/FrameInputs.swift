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
        let paths = self.paths
        _ = WorkerThread(stackSize: 1 << 20) {
            do {
                for path in paths {
                    let r = try FrameReader(path: path)
                    while let f = try r.nextUnverified() {
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
        var index = 0
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
