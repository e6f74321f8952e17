import CFFTW
#if canImport(Glibc)
import Glibc
#endif

/// A real FFT of length `n` with FFTW (single precision), forward (r2c) and
/// inverse (c2r): the plans are made once per length, shared by every
/// thread, and run with FFTW's new-array interface on 64-byte aligned
/// buffers. Planning uses `FFTW_ESTIMATE` so that results are bit-identical
/// from run to run.
public final class RealFFT: @unchecked Sendable {
    public let n: Int
    /// Number of complex outputs, n/2 + 1.
    public var bins: Int { n / 2 + 1 }
    private let plan: fftwf_plan
    private let inversePlan: fftwf_plan

    private nonisolated(unsafe) static var plans: [Int: RealFFT] = [:]
    private static let lock = NSLockLite()

    /// The shared transform of length `n` (planning is serialized: FFTW's
    /// planner is not thread-safe, its execution is).
    public static func shared(_ n: Int) -> RealFFT {
        lock.sync {
            if let p = plans[n] { return p }
            let p = RealFFT(n: n)
            plans[n] = p
            return p
        }
    }

    private init(n: Int) {
        self.n = n
        let input = AlignedFloats(count: n)
        let output = AlignedFloats(count: 2 * (n / 2 + 1))
        plan = output.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: n / 2 + 1) { o in
            fftwf_plan_dft_r2c_1d(Int32(n), input.pointer, o, UInt32(FFTW_ESTIMATE))
        }
        inversePlan = output.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: n / 2 + 1) { i in
            fftwf_plan_dft_c2r_1d(Int32(n), i, input.pointer, UInt32(FFTW_ESTIMATE))
        }
    }

    /// Transforms `input` (n reals) into `output` (n/2+1 interleaved re, im
    /// pairs). Both must be 64-byte aligned, as `AlignedFloats` are.
    public func forward(_ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        output.withMemoryRebound(to: fftwf_complex.self, capacity: bins) { o in
            fftwf_execute_dft_r2c(plan, input, o)
        }
    }

    /// The unnormalized inverse: `output[j] = Σₖ X[k] e^{2πijk/n}` over the
    /// Hermitian extension of the n/2+1 bins in `input` (the imaginary parts
    /// of bins 0 and n/2 are ignored), so `numpy.fft.irfft` is this / n.
    /// FFTW's c2r overwrites its input: pass a scratch copy.
    public func inverse(_ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        input.withMemoryRebound(to: fftwf_complex.self, capacity: bins) { i in
            fftwf_execute_dft_c2r(inversePlan, i, output)
        }
    }
}

/// A 64-byte aligned float buffer (what SIMD FFTs and GEMMs like best).
public final class AlignedFloats: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, max(count, 1) * MemoryLayout<Float>.stride) == 0, let raw else {
            fatalError("out of memory allocating \(count) floats")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { free(pointer) }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}
