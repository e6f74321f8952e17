import Foundation

/// Mel-cepstral distance as the PyPI package `mel-cepstral-distance` 0.0.4
/// (Taubert and Sternkopf, after Kubichek 1993) computes it in
/// `compare_audio_files` with its defaults, `wav-metrics`' `mcd`. With x
/// the reference and y the hypothesis at one sample rate r:
///
///     x ← x / max|x|,  y ← y / max|y|                                      (norm_audio)
///     w = ⌊0.032 r⌋ (window = n_fft), h = ⌊0.008 r⌋; frames start at 0, h, 2h, … < K − w
///     X[k, m] = rfft(hann(w) · x[kh ..< kh + w])          numpy's symmetric `np.hanning(w)`
///     L[k, n] = log10(Σ_m |X[k, m]|² W[n, m] + 2⁻⁵²)      20 HTK-scale triangles from 0 Hz
///                                                          to ⌊r / 2⌋, peak 1, on bins
///                                                          ⌊(w + 1) f / r⌋ (the package's)
///     frames paired along the FastDTW path (radius 10, Euclidean) of L_x and L_y
///     C[k, i] = Σ_{n=1}^{20} L[k, n] cos(i (n − ½) π / 20),   i = 2 … 16
///     MCD = mean over the pairs (k, l) of √(Σ_i (C_x[k, i] − C_y[l, i])²)
///
/// The package's MFCC rows are i = 1 … 20 (c0 is never computed) and its
/// s = 1, D = 16 keep rows 1 … 15, i = 2 … 16; its scale factor α is 1, so
/// the figure is in Kubichek's units, not dB. `.pad` pairs frames by index,
/// the shorter sequence padded with zero log-mel frames (its `aligning="pad"`).
///
/// FFTs are the kit's single-precision FFTW plans, the rest is double: on the
/// fixtures this agrees with the package within 3e-7 relative (float32
/// rounding in bands 80–100 dB below a frame's peak), along the same DTW path.
public struct MelCepstralDistance: Sendable {
    public enum Alignment: String, Sendable, CaseIterable {
        case dtw, pad
    }

    /// A comparison: the mean distance, the package's alignment penalty
    /// 2 − (frames of x + frames of y) / aligned pairs (0 when no frame is
    /// repeated) and the number of aligned pairs.
    public struct Result: Sendable, Equatable {
        public var mcd: Double
        public var penalty: Double
        public var pairs: Int
    }

    public static let windowSeconds = 0.032, hopSeconds = 0.008
    public static let bands = 20, coefficients = 2...16, radius = 10

    public var alignment: Alignment

    public init(alignment: Alignment = .dtw) { self.alignment = alignment }

    /// The distance of `hyp` from `ref` at `sampleRate`, or nil when either
    /// is silent throughout or shorter than a window and a sample.
    public func compare(ref: [Float], hyp: [Float], sampleRate: Int) -> Result? {
        let analysis = Analysis(sampleRate: sampleRate)
        guard analysis.window.count > 1, analysis.hop > 0,
              let a = analysis.logMel(ref), let b = analysis.logMel(hyp) else { return nil }
        let n = Self.bands, na = a.count / n, nb = b.count / n
        let pairs: [(Int, Int)]
        switch alignment {
        case .dtw: pairs = FastDTW.path(a, b, dimension: n, radius: Self.radius)
        case .pad: pairs = (0..<max(na, nb)).map { ($0 < na ? $0 : -1, $0 < nb ? $0 : -1) }
        }
        let ca = Self.cepstra(a), cb = Self.cepstra(b), d = Self.coefficients.count
        var total = 0.0
        for (k, l) in pairs {
            var sq = 0.0
            for i in 0..<d {
                let e = (k < 0 ? 0 : ca[k * d + i]) - (l < 0 ? 0 : cb[l * d + i])
                sq += e * e
            }
            total += sq.squareRoot()
        }
        return Result(mcd: total / Double(pairs.count), penalty: 2 - Double(na + nb) / Double(pairs.count), pairs: pairs.count)
    }

    /// C[k, i] for i in `coefficients`, row-major [frames, 15], of log-mel frames [frames, 20].
    static func cepstra(_ logMel: [Double]) -> [Double] {
        let n = bands, rows = Array(coefficients)
        let cosines = rows.map { i in (1...n).map { m in cos(Double(i) * (Double(m) - 0.5) * Double.pi / Double(n)) } }
        let frames = logMel.count / n
        var out = [Double](repeating: 0, count: frames * rows.count)
        for k in 0..<frames {
            for (r, c) in cosines.enumerated() {
                var s = 0.0
                for m in 0..<n { s += c[m] * logMel[k * n + m] }
                out[k * rows.count + r] = s
            }
        }
        return out
    }

    /// The package's STFT and mel filterbank at one sample rate.
    struct Analysis {
        /// `ms_to_samples`: int(ms / 1000 · rate), the window and FFT length, and the hop.
        let window: [Double]
        let hop: Int
        /// Triangle n: its first bin and weights.
        let filters: [(first: Int, weights: [Double])]

        init(sampleRate: Int) {
            let w = Int(32.0 / 1000 * Double(sampleRate))
            hop = Int(8.0 / 1000 * Double(sampleRate))
            // np.hanning(w): 0.5 + 0.5 cos(π n / (w − 1)), n = 1 − w, 3 − w, …, w − 1
            window = (0..<max(w, 0)).map { i in 0.5 + 0.5 * cos(Double.pi * Double(1 - w + 2 * i) / Double(w - 1)) }
            filters = w > 1 ? Self.filterbank(sampleRate: sampleRate, nFFT: w) : []
        }

        /// `get_w_n_m`: 20 triangles between 22 points equally spaced in HTK
        /// mel from 0 Hz to ⌊rate / 2⌋ (np.linspace), on the bins
        /// ⌊(n_fft + 1) f / rate⌋, rising on [left, centre), falling on [centre, right).
        static func filterbank(sampleRate: Int, nFFT: Int) -> [(first: Int, weights: [Double])] {
            let count = bands + 2, bins = nFFT / 2 + 1
            let lo = MelScale.htk.mel(0), hi = MelScale.htk.mel(Double(sampleRate / 2))
            let step = (hi - lo) / Double(count - 1)
            let hz = (0..<count).map { $0 == count - 1 ? MelScale.htk.hz(hi) : MelScale.htk.hz(Double($0) * step + lo) }
            let edge = hz.map { Int((Double(nFFT + 1) * $0 / Double(sampleRate)).rounded(.down)) }
            return (1...bands).map { n in
                let left = edge[n - 1], centre = edge[n], right = min(edge[n + 1], bins)
                var weights = [Double](repeating: 0, count: max(right - left, 0))
                for k in left..<max(centre, left) where k < bins { weights[k - left] = Double(k - left) / Double(centre - left) }
                for k in centre..<max(right, centre) { weights[k - left] = Double(edge[n + 1] - k) / Double(edge[n + 1] - centre) }
                return (left, weights)
            }
        }

        /// L, row-major [frames, 20], or nil when the signal is silent or too short for a frame.
        func logMel(_ x: [Float]) -> [Double]? {
            let w = window.count
            let peak = x.reduce(0.0) { max($0, Double(abs($1))) }
            guard peak > 0, peak.isFinite, x.count - w > 0 else { return nil }
            let starts = Array(stride(from: 0, to: x.count - w, by: hop))
            let fft = RealFFT.shared(w)
            let input = AlignedFloats(count: w), output = AlignedFloats(count: 2 * fft.bins)
            var power = [Double](repeating: 0, count: fft.bins)
            var out = [Double](repeating: 0, count: starts.count * bands)
            for (k, s) in starts.enumerated() {
                for i in 0..<w { input[i] = Float(Double(x[s + i]) / peak * window[i]) }
                fft.forward(input.pointer, output.pointer)
                for m in 0..<fft.bins {
                    let re = Double(output[2 * m]), im = Double(output[2 * m + 1])
                    power[m] = re * re + im * im
                }
                for (n, f) in filters.enumerated() {
                    var e = 0.0
                    for (j, v) in f.weights.enumerated() where v != 0 { e += power[f.first + j] * v }
                    out[k * bands + n] = log10(e + Double.ulpOfOne)
                }
            }
            return out
        }
    }
}
