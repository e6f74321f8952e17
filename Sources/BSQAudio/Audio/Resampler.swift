import CSoxr

/// Streaming mono sample-rate conversion with libsoxr, set up exactly as
/// python-soxr does for `librosa.load(sr=…)`'s default `res_type="soxr_hq"`:
/// float32 in and out, `soxr_quality_spec(SOXR_HQ, 0)`. soxr's output does
/// not depend on how the input is chunked, so streaming equals the one-shot call.
public final class Resampler {
    public let inputRate: Double
    public let outputRate: Double
    private let soxr: soxr_t
    private var scratch = [Float](repeating: 0, count: 16384)

    public init(from inputRate: Double, to outputRate: Double) throws {
        self.inputRate = inputRate
        self.outputRate = outputRate
        var error: soxr_error_t? = nil
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var q = soxr_quality_spec(UInt(SOXR_HQ), 0)
        guard let s = soxr_create(inputRate, outputRate, 1, &error, &io, &q, nil), error == nil else {
            throw BSQError("resampler: \(error.map { String(cString: $0) } ?? "cannot resample \(inputRate) Hz to \(outputRate) Hz")")
        }
        soxr = s
    }

    deinit { soxr_delete(soxr) }

    /// Feeds `input`, appending every sample soxr has ready to `output`.
    public func process(_ input: UnsafeBufferPointer<Float>, into output: inout [Float]) throws {
        var offset = 0
        repeat {
            var used = 0
            let produced = try run(input.baseAddress.map { $0 + offset }, input.count - offset, &used)
            output.append(contentsOf: scratch[0..<produced])
            offset += used
            if used == 0 && produced == 0 { break }
        } while offset < input.count
    }

    /// Signals the end of input and appends what remains in the filter.
    public func flush(into output: inout [Float]) throws {
        while true {
            var used = 0
            let produced = try run(nil, 0, &used)
            output.append(contentsOf: scratch[0..<produced])
            if produced < scratch.count { break }
        }
    }

    private func run(_ input: UnsafePointer<Float>?, _ count: Int, _ used: inout Int) throws -> Int {
        var idone = 0
        var odone = 0
        let err = scratch.withUnsafeMutableBufferPointer { o in
            soxr_process(soxr, input, count, &idone, o.baseAddress, o.count, &odone)
        }
        if let err { throw BSQError("resampler: \(String(cString: err))") }
        used = idone
        return odone
    }

    /// The output length `librosa.resample` fixes: ⌈n · out/in⌉.
    public static func librosaLength(inputCount n: Int, from inputRate: Double, to outputRate: Double) -> Int {
        let ratio = outputRate / inputRate
        return Int((Double(n) * ratio).rounded(.up))
    }
}
