import Foundation

/// A background thread that its owner waits for (`join`) before going on.
///
/// Every thread of the kit that can call into OpenBLAS, FFTW, libsndfile,
/// libsoxr or zstd is one of these, joined on every path out of the scope
/// that started it (normal end, error, interruption): a process that exits
/// while such a thread is still inside a C library runs that library's
/// exit-time destructors under its feet (issue 15: a SIGSEGV in OpenBLAS at
/// the end of a training run).
final class WorkerThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var joined = false

    init(stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) {
        let t = Thread { [done] in
            body()
            done.signal()
        }
        t.stackSize = stackSize
        t.start()
    }

    /// Waits until the thread's body has returned (once; later calls return at once).
    func join() {
        if joined { return }
        done.wait()
        joined = true
    }
}
