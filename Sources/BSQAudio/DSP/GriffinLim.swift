import Foundation

/// Fast Griffin-Lim (Perraudin, Balazs and Søndergaard 2013) exactly as
/// `librosa.griffinlim` runs it: with |S| the target magnitude and
/// c = momentum / (1 + momentum),
///
///     X₀ = |S| · e^{iφ₀}
///     repeat n times:   R = STFT(ISTFT(X)),   X = R − c·R_prev,   X = |S| · X / (|X| + ε),   R_prev = R
///     y = ISTFT(X)
///
/// (no momentum term on the first pass; ε is the smallest normal float). φ₀
/// is uniform random phase drawn as numpy's `RandomState(seed).random(size=
/// (bins, frames))` · 2π, so that a seed gives librosa's result for
/// `random_state=seed`, or zero phase (librosa's `init=None`). FFTs are the
/// shared FFTW plans of `STFT`, complex arithmetic float32 as in librosa.
public struct GriffinLim: Sendable {
    public enum Initialization: Sendable, Equatable {
        /// Phases 2π·u with u from numpy's `RandomState(seed).random`.
        case random(seed: UInt32)
        /// Every phase 0.
        case zeros
    }

    public let stft: STFT
    public var iterations: Int
    public var momentum: Double

    public init(_ analysis: MelAnalysis, iterations: Int = 32, momentum: Double = 0.99) {
        stft = STFT(analysis)
        self.iterations = iterations
        self.momentum = momentum
    }

    /// The signal (`stft.signalLength(frames)` samples) whose STFT magnitude
    /// approaches `magnitude` (`[frames, bins]`).
    public func reconstruct(magnitude: [Float], frames: Int, initialization: Initialization) -> [Float] {
        let bins = stft.bins
        precondition(magnitude.count == frames * bins, "magnitude does not match frames × bins")
        let length = stft.signalLength(frames: frames)
        guard frames > 0, length > 0 else { return [] }
        let ws = STFT.Workspace(nFFT: stft.nFFT)
        var angles = initialPhasors(magnitude, frames: frames, initialization)
        var rebuilt = [Float](repeating: 0, count: 2 * frames * bins)
        var previous = [Float](repeating: 0, count: 2 * frames * bins)
        var y = [Float](repeating: 0, count: length)
        let c = Float(momentum / (1 + momentum))
        let eps = Float.leastNormalMagnitude
        for iteration in 0..<iterations {
            angles.withUnsafeBufferPointer { a in
                y.withUnsafeMutableBufferPointer { stft.inverse(a.baseAddress!, frames: frames, into: $0.baseAddress!, ws) }
            }
            y.withUnsafeBufferPointer { yp in
                rebuilt.withUnsafeMutableBufferPointer { stft.forward(yp, into: $0.baseAddress!, ws) }
            }
            let first = iteration == 0
            angles.withUnsafeMutableBufferPointer { a in
                rebuilt.withUnsafeBufferPointer { r in
                    previous.withUnsafeBufferPointer { p in
                        magnitude.withUnsafeBufferPointer { s in
                            for j in 0..<(frames * bins) {
                                var re = r[2 * j], im = r[2 * j + 1]
                                if !first {
                                    re -= c * p[2 * j]
                                    im -= c * p[2 * j + 1]
                                }
                                let d = (re * re + im * im).squareRoot() + eps
                                a[2 * j] = re / d * s[j]
                                a[2 * j + 1] = im / d * s[j]
                            }
                        }
                    }
                }
            }
            swap(&rebuilt, &previous)
        }
        angles.withUnsafeBufferPointer { a in
            y.withUnsafeMutableBufferPointer { stft.inverse(a.baseAddress!, frames: frames, into: $0.baseAddress!, ws) }
        }
        return y
    }

    /// |S| · e^{iφ₀}, time-major interleaved. numpy draws φ₀ over `(bins,
    /// frames)` in row-major order, so bin k of frame t takes draw k·frames + t.
    func initialPhasors(_ magnitude: [Float], frames: Int, _ initialization: Initialization) -> [Float] {
        let bins = stft.bins
        var out = [Float](repeating: 0, count: 2 * frames * bins)
        switch initialization {
        case .zeros:
            for j in 0..<(frames * bins) { out[2 * j] = magnitude[j] }
        case .random(let seed):
            var rng = MersenneTwister(seed: seed)
            for k in 0..<bins {
                for t in 0..<frames {
                    let phi = 2 * Double.pi * rng.uniform()
                    let j = t * bins + k
                    out[2 * j] = Float(cos(phi)) * magnitude[j]
                    out[2 * j + 1] = Float(sin(phi)) * magnitude[j]
                }
            }
        }
        return out
    }
}
