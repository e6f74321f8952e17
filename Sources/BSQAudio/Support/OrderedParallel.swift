import Foundation

/// Runs `work` on items 0..<count over `jobs` threads and hands the results
/// to `consume` on the calling thread strictly in index order. At most
/// `2 · jobs` results wait to be consumed, so memory stays bounded however
/// many items there are. With one job everything runs on the calling thread.
/// The workers are joined before `run` returns or throws: none is left
/// computing when the caller goes on (or the process exits).
public enum OrderedParallel {
    public static func run<R>(count: Int, jobs: Int,
                              work: @escaping @Sendable (Int) -> R,
                              consume: (Int, R) throws -> Void) rethrows {
        if jobs <= 1 || count <= 1 {
            for i in 0..<count { try consume(i, work(i)) }
            return
        }
        let state = SharedState<R>(window: 2 * jobs)
        let workers = (0..<min(jobs, count)).map { _ in
            WorkerThread { while let i = state.claim(limit: count) { state.deliver(i, work(i)) } }
        }
        defer {
            state.stop()
            for w in workers { w.join() }
        }
        for i in 0..<count { try consume(i, state.take(i)) }
    }

    private final class SharedState<R>: @unchecked Sendable {
        private let cond = NSCondition()
        private var results: [Int: R] = [:]
        private var next = 0
        private var consumed = 0
        private var stopped = false
        let window: Int
        init(window: Int) { self.window = window }

        /// The next index to work on, waiting while too many results are unconsumed.
        func claim(limit: Int) -> Int? {
            cond.lock(); defer { cond.unlock() }
            while !stopped && next < limit && next >= consumed + window { cond.wait() }
            if stopped || next >= limit { return nil }
            next += 1
            return next - 1
        }

        func deliver(_ i: Int, _ r: R) {
            cond.lock()
            results[i] = r
            cond.broadcast()
            cond.unlock()
        }

        func take(_ i: Int) -> R {
            cond.lock(); defer { cond.unlock() }
            while results[i] == nil { cond.wait() }
            consumed = i + 1
            cond.broadcast()
            return results.removeValue(forKey: i)!
        }

        /// Lets idle workers leave when the consumer stops early.
        func stop() {
            cond.lock()
            stopped = true
            cond.broadcast()
            cond.unlock()
        }
    }
}
