import BSQAudio
import Foundation
import XCTest

/// Background work never outlives the call that started it (issue 15: a
/// thread still inside OpenBLAS while the process ran its exit-time
/// destructors crashed `bsq-train` at the end of a third of its runs).
final class BackgroundWorkTests: XCTestCase {
    /// Counts work in flight, from any thread.
    final class InFlight: @unchecked Sendable {
        private let lock = NSLock()
        private var running = 0
        private(set) var started = 0
        func begin() { lock.lock(); running += 1; started += 1; lock.unlock() }
        func end() { lock.lock(); running -= 1; lock.unlock() }
        var now: Int { lock.lock(); defer { lock.unlock() }; return running }
    }

    struct Stop: Error {}

    func testOrderedParallelJoinsItsWorkersWhenTheConsumerThrows() {
        let flight = InFlight()
        XCTAssertThrowsError(try OrderedParallel.run(count: 50, jobs: 2, work: { i in
            flight.begin()
            usleep(i == 0 ? 1_000 : 150_000)
            flight.end()
            return i
        }, consume: { i, _ in if i == 0 { throw Stop() } }))
        XCTAssertGreaterThan(flight.started, 1)
        XCTAssertEqual(flight.now, 0, "a worker was still computing after run threw")
    }

    func testOrderedParallelJoinsItsWorkersAtTheEnd() throws {
        let flight = InFlight()
        var seen: [Int] = []
        try OrderedParallel.run(count: 9, jobs: 3, work: { i in
            flight.begin()
            usleep(UInt32(20_000 * (9 - i)))
            flight.end()
            return i * i
        }, consume: { _, r in seen.append(r) })
        XCTAssertEqual(seen, (0..<9).map { $0 * $0 })
        XCTAssertEqual(flight.now, 0)
    }

    /// A stream that fails after some items (a corrupt frame): every item
    /// before the failure is consumed, in order, then the error comes, and no
    /// worker is left running.
    func testOrderedParallelJoinsItsWorkersWhenTheFeedThrows() {
        let flight = InFlight()
        var seen: [Int] = []
        XCTAssertThrowsError(try OrderedParallel.run(jobs: 3, feed: { submit in
            for i in 0..<20 { try submit(i) }
            throw Stop()
        }, work: { i in
            flight.begin()
            usleep(UInt32(1_000 * (20 - i)))
            flight.end()
            return -i
        }, consume: { i, r in
            XCTAssertEqual(r, -i)
            seen.append(i)
        })) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(seen, Array(0..<20))
        XCTAssertEqual(flight.now, 0, "a worker was still computing after run threw")
    }

    /// `batches` hands `work` groups of consecutive items (the last one
    /// shorter) on the calling thread, and consumes each group's items, in
    /// order, before the next group is made.
    func testBatchesGroupConsecutiveItemsAndConsumeInOrder() throws {
        var events: [String] = []
        try OrderedParallel.batches(of: 3, feed: { submit in
            for i in 0..<8 { try submit(i) }
        }, work: { group in
            events.append("work \(group)")
            return group.map { $0 * 10 }
        }, consume: { i, r in
            XCTAssertEqual(r, i * 10)
            events.append("\(i)")
        })
        XCTAssertEqual(events, ["work [0, 1, 2]", "0", "1", "2", "work [3, 4, 5]", "3", "4", "5", "work [6, 7]", "6", "7"])
    }

    /// `stop` cancels the batch being made between two samples and returns
    /// only once the prefetching thread has left it.
    func testPrefetcherStopWaitsForTheBatchInProgress() throws {
        let flight = InFlight()
        let prefetch = BatchPrefetcher(from: 0) { step, cancelled in
            flight.begin()
            defer { flight.end() }
            for _ in 0..<20 {
                if cancelled() { return nil }
                usleep(20_000)
            }
            return [Float(step)]
        }
        XCTAssertEqual(try prefetch.take(0), [0])
        usleep(50_000)   // step 1 and 2 are being made now
        XCTAssertEqual(flight.now, 1)
        prefetch.stop()
        XCTAssertEqual(flight.now, 0, "the prefetcher was still making a batch after stop()")
        prefetch.stop()  // a second stop is harmless
    }

    func testPrefetcherHandsOverErrorsInStepOrder() {
        struct Bad: Error {}
        let prefetch = BatchPrefetcher(from: 3) { step, _ in
            if step == 4 { throw Bad() }
            return [Float(step)]
        }
        defer { prefetch.stop() }
        XCTAssertEqual(try prefetch.take(3), [3])
        XCTAssertThrowsError(try prefetch.take(4)) { XCTAssertTrue($0 is Bad) }
        XCTAssertEqual(try prefetch.take(5), [5])
    }
}
