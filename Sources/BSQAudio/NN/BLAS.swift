import COpenBLAS
import Dispatch
import Foundation

/// Every matrix product of the kit goes through OpenBLAS's sgemm (dgemm for
/// the few in double); this is the
/// only file that sees the C interface. Matrices are row-major.
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, with op(X) = Xᵀ when `transX`.
    /// `lda`, `ldb`, `ldc` are row strides (default: the dense width).
    @inline(__always)
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        let t0 = profiling ? DispatchTime.now().uptimeNanoseconds : 0
        defer { if profiling { record(flops: 2 * Double(m) * Double(n) * Double(k), since: t0) } }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda ?? (transA ? m : k)),
                    b, blasint(ldb ?? (transB ? k : n)),
                    beta, c, blasint(ldc ?? n))
    }

    /// The same in double precision (the training loss's codebook statistics).
    public static func dgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Double = 1, a: UnsafePointer<Double>, lda: Int? = nil,
        b: UnsafePointer<Double>, ldb: Int? = nil,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        cblas_dgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda ?? (transA ? m : k)),
                    b, blasint(ldb ?? (transB ? k : n)),
                    beta, c, blasint(ldc ?? n))
    }

    /// With `BSQ_PROFILE_SGEMM=1` in the environment, every sgemm's flops and
    /// time are summed (over all threads) for `profile`: how fast the matrix
    /// products themselves run, apart from everything around them.
    nonisolated(unsafe) public static var profiling = ProcessInfo.processInfo.environment["BSQ_PROFILE_SGEMM"] == "1"
    nonisolated(unsafe) private static var totals = (flops: 0.0, seconds: 0.0, calls: 0)
    private static let lock = NSLockLite()

    static func record(flops: Double, since t0: UInt64) {
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        lock.sync { totals.flops += flops; totals.seconds += dt; totals.calls += 1 }
    }

    /// Flops, thread-seconds and calls of the sgemms so far (zero unless profiling).
    public static var profile: (flops: Double, seconds: Double, calls: Int) { lock.sync { totals } }

    /// One line of `profile` for a tool's report (nil unless profiling).
    public static var profileSummary: String? {
        guard profiling else { return nil }
        let p = profile
        return String(format: "sgemm: %d calls, %.1f GFLOP in %.2f thread-seconds: %.1f GFLOP/s per thread",
                      p.calls, p.flops / 1e9, p.seconds, p.flops / 1e9 / max(p.seconds, 1e-9))
    }

    /// Sets how many threads OpenBLAS uses. Tools that parallelize over
    /// inputs themselves pin it to 1 so that the two do not oversubscribe.
    /// Going down to one thread also stops the idle workers OpenBLAS started
    /// at load time, which would otherwise spin on the other cores for a while.
    /// (Only before any multi-threaded use: once its workers have run a job,
    /// OpenBLAS's shutdown can wait forever for them.)
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
        if n == 1 && !usedThreads { _ = blas_thread_shutdown_() }
        if n > 1 { usedThreads = true }
    }
    nonisolated(unsafe) private static var usedThreads = false
}
