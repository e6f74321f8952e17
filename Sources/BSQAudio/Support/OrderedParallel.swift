import Foundation

/// The kit's one ordered batch runner: `mel`, `specaug`, `mel2wav` and
/// `wav-metrics` over their inputs, `bsq-encode` and `bsq-decode` over the
/// chunks of their utterances.
///
/// `feed` submits the items on the calling thread, from an array or while a
/// stream is read; `consume` gets each item with its output on the calling
/// thread, strictly in the order the items were submitted, as soon as the
/// output and all before it are there. An error from `feed` reaches the
/// caller after every item submitted before it has been consumed; an error
/// from `consume` stops the run at once.
public enum OrderedParallel {
    /// Submits the items in order with `submit`.
    public typealias Feed<Item> = (_ submit: (Item) throws -> Void) throws -> Void

    /// Runs `work` on the items over `jobs` threads. At most `2 · jobs` items
    /// are in work or waiting to be consumed, so memory stays bounded however
    /// many there are. Every worker is joined before `run` returns or throws:
    /// none is left computing (inside OpenBLAS, FFTW, libsndfile…) when the
    /// caller goes on or the process exits. With one job everything runs on
    /// the calling thread.
    public static func run<Item: Sendable, Output: Sendable>(jobs: Int, feed: Feed<Item>,
                                                             work: @escaping @Sendable (Item) -> Output,
                                                             consume: (Item, Output) throws -> Void) throws {
        if jobs <= 1 {
            try drive(Inline { [work($0[0])] }, batch: 1, window: 1, feed: feed, consume: consume)
            return
        }
        let pool = Pool<Item, Output>(jobs: jobs) { [work($0[0])] }
        defer { pool.stopAndJoin() }
        try drive(pool, batch: 1, window: 2 * jobs, feed: feed, consume: consume)
    }

    /// `run` over the items 0..<count.
    public static func run<Output: Sendable>(count: Int, jobs: Int, work: @escaping @Sendable (Int) -> Output,
                                             consume: (Int, Output) throws -> Void) throws {
        try run(jobs: jobs, feed: { submit in for i in 0..<count { try submit(i) } }, work: work, consume: consume)
    }

    /// Runs `work` on groups of `size` consecutive items (the last one maybe
    /// smaller) on the calling thread, one output per item: for work that is
    /// parallel inside, such as a forward pass over a batch of chunks.
    public static func batches<Item, Output>(of size: Int, feed: Feed<Item>, work: ([Item]) -> [Output],
                                             consume: (Item, Output) throws -> Void) throws {
        try withoutActuallyEscaping(work) { work in
            try drive(Inline(work), batch: max(1, size), window: 1, feed: feed, consume: consume)
        }
    }

    /// Cuts the items into groups, starts each group in `shop`, and consumes
    /// the outputs in order, waiting only when `window` groups are out.
    private static func drive<Shop: Workshop>(_ shop: Shop, batch: Int, window: Int, feed: Feed<Shop.Item>,
                                              consume: (Shop.Item, Shop.Output) throws -> Void) throws {
        var group: [Shop.Item] = []
        var out: [[Shop.Item]] = []   // groups started and not yet consumed, oldest first
        var first = 0                  // the number of out[0]
        // (`consume` is called from inside `feed`, which Swift allows a non-escaping closure only this way)
        try withoutActuallyEscaping(consume) { consume in
            func consumeOldest(wait: Bool) throws -> Bool {
                guard let items = out.first, let outputs = shop.outputs(of: first, wait: wait) else { return false }
                precondition(outputs.count == items.count, "one output per item")
                out.removeFirst()
                first += 1
                for (item, output) in zip(items, outputs) { try consume(item, output) }
                return true
            }
            func send() throws {
                shop.start(group, number: first + out.count)
                out.append(group)
                group.removeAll()
                while out.count >= window { _ = try consumeOldest(wait: true) }
                while try consumeOldest(wait: false) {}
            }
            func finish() throws {
                if !group.isEmpty { try send() }
                while try consumeOldest(wait: true) {}
            }
            var consumerFailed = false
            do {
                try feed { item in
                    group.append(item)
                    guard group.count == batch else { return }
                    do { try send() } catch { consumerFailed = true; throw error }
                }
            } catch {
                if !consumerFailed { try finish() }
                throw error
            }
            try finish()
        }
    }
}

/// Where groups of items are worked on.
private protocol Workshop<Item, Output> {
    associatedtype Item
    associatedtype Output
    /// Starts work on group number `number` (numbered 0, 1, … in order).
    func start(_ group: [Item], number: Int)
    /// The outputs of group `number`, once (nil when not `wait` and not done yet).
    func outputs(of number: Int, wait: Bool) -> [Output]?
}

/// Work done at once on the calling thread.
private final class Inline<Item, Output>: Workshop {
    private let work: ([Item]) -> [Output]
    private var done: [Int: [Output]] = [:]
    init(_ work: @escaping ([Item]) -> [Output]) { self.work = work }
    func start(_ group: [Item], number: Int) { done[number] = work(group) }
    func outputs(of number: Int, wait: Bool) -> [Output]? { done.removeValue(forKey: number) }
}

/// Worker threads, started as groups come (at most `jobs`), taking groups
/// oldest first; `stopAndJoin` lets them finish the group in hand and waits.
private final class Pool<Item: Sendable, Output: Sendable>: Workshop, @unchecked Sendable {
    private let cond = NSCondition()
    private var queue: [(Int, [Item])] = []
    private var done: [Int: [Output]] = [:]
    private var stopped = false
    private var workers: [WorkerThread] = []   // touched by the calling thread only
    private let jobs: Int
    private let work: @Sendable ([Item]) -> [Output]

    init(jobs: Int, _ work: @escaping @Sendable ([Item]) -> [Output]) {
        self.jobs = jobs
        self.work = work
    }

    func start(_ group: [Item], number: Int) {
        cond.lock()
        queue.append((number, group))
        cond.broadcast()
        cond.unlock()
        if workers.count < jobs { workers.append(WorkerThread { [self] in loop() }) }
    }

    func outputs(of number: Int, wait: Bool) -> [Output]? {
        cond.lock(); defer { cond.unlock() }
        while wait && done[number] == nil { cond.wait() }
        return done.removeValue(forKey: number)
    }

    func stopAndJoin() {
        cond.lock()
        stopped = true
        cond.broadcast()
        cond.unlock()
        for w in workers { w.join() }
    }

    private func loop() {
        while let (number, group) = next() {
            let outputs = work(group)
            cond.lock()
            done[number] = outputs
            cond.broadcast()
            cond.unlock()
        }
    }

    private func next() -> (Int, [Item])? {
        cond.lock(); defer { cond.unlock() }
        while queue.isEmpty && !stopped { cond.wait() }
        return stopped ? nil : queue.removeFirst()
    }
}
