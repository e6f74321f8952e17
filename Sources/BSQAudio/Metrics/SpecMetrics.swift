import Foundation

/// The sums that the spectrogram distances are made of, for one utterance or
/// pooled over many (`merge`). With X the reference and Y the hypothesis in
/// dB, over the N = T·F values of T frames of F mel bins, and the power mel
/// P = 10^(dB/10):
///
///     MSE  = Σ (X − Y)² / N                                    dB²
///     MAE  = Σ |X − Y| / N                                     dB
///     RMSE = √MSE                                              dB
///     PSNR = 10 log10(range² / MSE)                            dB
///     LSD  = Σₜ √(Σ_f (X − Y)² / F) / T                        dB
///     SC   = √Σ (P_X − P_Y)² / √Σ P_X²
///     SNR  = 10 log10(Σ P_X² / Σ (P_X − P_Y)²)                 dB
///
/// Pooling adds the sums, so pooled MSE is over every value of every
/// utterance and pooled LSD over every frame of every utterance. All in
/// float64.
public struct SpecMetrics: Sendable, Equatable {
    public private(set) var frames = 0
    public private(set) var values = 0
    /// Σ (X − Y)²
    public private(set) var squaredError = 0.0
    /// Σ |X − Y|
    public private(set) var absoluteError = 0.0
    /// Σₜ √(Σ_f (X − Y)² / F)
    public private(set) var frameLSD = 0.0
    /// Σ P_X²
    public private(set) var refPower = 0.0
    /// Σ (P_X − P_Y)²
    public private(set) var powerError = 0.0

    public init() {}

    /// Adds `frames` × `nMels` values of a reference and a hypothesis (time-major, dB).
    public mutating func add(ref: [Float], hyp: [Float], frames: Int, nMels: Int) {
        precondition(ref.count == frames * nMels && hyp.count == ref.count, "shapes differ")
        let k = M_LN10 / 10
        ref.withUnsafeBufferPointer { x in
            hyp.withUnsafeBufferPointer { y in
                for t in 0..<frames {
                    var frameSquares = 0.0
                    for i in (t * nMels)..<((t + 1) * nMels) {
                        let a = Double(x[i]), b = Double(y[i])
                        let d = a - b
                        frameSquares += d * d
                        absoluteError += abs(d)
                        let pa = exp(a * k), pb = exp(b * k)
                        refPower += pa * pa
                        powerError += (pa - pb) * (pa - pb)
                    }
                    squaredError += frameSquares
                    if nMels > 0 { frameLSD += (frameSquares / Double(nMels)).squareRoot() }
                }
            }
        }
        self.frames += frames
        self.values += frames * nMels
    }

    /// Pools another utterance's sums into these.
    /// The sums as numbers (frames, values, then the five sums in their order
    /// above), as data-parallel validation gathers them; `init(sums:)` reads them back.
    public var sums: [Double] { [Double(frames), Double(values), squaredError, absoluteError, frameLSD, refPower, powerError] }

    public init(sums s: [Double]) {
        precondition(s.count == 7, "7 sums")
        frames = Int(s[0]); values = Int(s[1])
        squaredError = s[2]; absoluteError = s[3]; frameLSD = s[4]; refPower = s[5]; powerError = s[6]
    }

    public mutating func merge(_ o: SpecMetrics) {
        frames += o.frames
        values += o.values
        squaredError += o.squaredError
        absoluteError += o.absoluteError
        frameLSD += o.frameLSD
        refPower += o.refPower
        powerError += o.powerError
    }

    public var mse: Double { squaredError / Double(values) }
    public var mae: Double { absoluteError / Double(values) }
    public var rmse: Double { mse.squareRoot() }
    /// +∞ when the spectrograms are equal.
    public func psnr(range: Double) -> Double { 10 * log10(range * range / mse) }
    public var lsd: Double { frameLSD / Double(frames) }
    public var spectralConvergence: Double { powerError.squareRoot() / refPower.squareRoot() }
    /// +∞ when the spectrograms are equal.
    public var snr: Double { 10 * log10(refPower / powerError) }
}
