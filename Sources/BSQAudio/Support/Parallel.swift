import Dispatch

/// Static work sharing over a fixed number of threads: task i always runs on
/// worker i mod threads, so each worker can own scratch memory, and the
/// split of the work never changes what any task computes.
public enum Parallel {
    public static func forEach(_ count: Int, threads: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        let t = max(1, min(threads, count))
        if t == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = Box(body)
            DispatchQueue.concurrentPerform(iterations: t) { w in
                var i = w
                while i < count { box.body(i, w); i += t }
            }
        }
    }

    private final class Box: @unchecked Sendable {
        let body: (Int, Int) -> Void
        init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
    }
}
