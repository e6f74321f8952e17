import Foundation

/// The waveform distances of `wav-metrics` between a reference x and a
/// hypothesis y of equal length at one sample rate, in double:
///
///     SI-SNR = 10 log10(‖s‖² / ‖y′ − s‖²),   s = (⟨y′, x′⟩ / ‖x′‖²) · x′      dB
///              (x′, y′: x and y minus their means)
///     STOI, ESTOI                           as pystoi (`STOI`)
///     MCD                                   as mel-cepstral-distance 0.0.4 (`MelCepstralDistance`, DTW)
///     MCD-mel80 = (1/T) Σₜ (10 / ln 10) · √(2 Σ_{d=1}^{12} (c_d[t] − ĉ_d[t])²)  dB
///
/// MCD-mel80 is the kit's earlier figure, kept for comparison with results
/// reported with it (not with the literature): c[t] are the first 13
/// cepstral coefficients of frame t, c0 left out, the orthonormal DCT-II of
/// ½ ln max(M[t, m], F), the log mel amplitude floored 80 dB below the
/// reference's loudest bin (F = 1e-8 · max M_ref), with M the power mel
/// spectrogram of 80 Slaney bands from 0 Hz to half the sample rate, n_fft
/// 1024, Hann, hop ⌊rate / 100⌋ (10 ms), centred with zero padding
/// (`librosa.feature.melspectrogram`), frames paired by index over the
/// shorter count.
public struct WaveformMetrics: Sendable, Equatable {
    public var samples: Int
    public var sampleRate: Int
    public var siSNR: Double
    public var stoi: Double
    public var estoi: Double
    /// The mel-cepstral distance of `MelCepstralDistance` (DTW), NaN when
    /// either signal is silent or shorter than its window.
    public var mcd: Double
    public var mcdMel80: Double

    public var seconds: Double { Double(samples) / Double(sampleRate) }

    /// Every metric of `hyp` against `ref` (equal lengths); MCD from
    /// `mcdSignals` instead when given (`WaveComparison` passes both signals
    /// at the lower of the two files' rates, as mel-cepstral-distance compares them).
    public init(ref: [Float], hyp: [Float], sampleRate: Int, mcdSignals: (ref: [Float], hyp: [Float], sampleRate: Int)? = nil) {
        precondition(ref.count == hyp.count, "signals of different lengths")
        samples = ref.count
        self.sampleRate = sampleRate
        let x = ref.map(Double.init), y = hyp.map(Double.init)
        siSNR = WaveformMetrics.siSNR(ref: x, hyp: y)
        stoi = STOI.score(clean: x, processed: y, sampleRate: sampleRate)
        estoi = STOI.score(clean: x, processed: y, sampleRate: sampleRate, extended: true)
        let m = mcdSignals ?? (ref, hyp, sampleRate)
        mcd = MelCepstralDistance().compare(ref: m.ref, hyp: m.hyp, sampleRate: m.sampleRate)?.mcd ?? .nan
        mcdMel80 = WaveformMetrics.mel80CepstralDistortion(ref: ref, hyp: hyp, sampleRate: sampleRate)
    }

    public static func siSNR(ref x: [Double], hyp y: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(max(x.count, 1)), my = y.reduce(0, +) / Double(max(y.count, 1))
        var xy = 0.0, xx = 0.0
        for i in x.indices { xy += (x[i] - mx) * (y[i] - my); xx += (x[i] - mx) * (x[i] - mx) }
        let a = xy / xx
        var target = 0.0, noise = 0.0
        for i in x.indices {
            let s = a * (x[i] - mx), e = (y[i] - my) - s
            target += s * s
            noise += e * e
        }
        return 10 * log10(target / noise)
    }

    /// The analysis MCD-mel80's cepstra come from, at `sampleRate`.
    public static func cepstralAnalysis(sampleRate: Int) -> MelAnalysis {
        var a = MelAnalysis()
        a.sampleRate = sampleRate
        a.nFFT = 1024
        a.hopLength = max(1, sampleRate / 100)
        a.nMels = 80
        return a
    }

    public static let cepstra = 13

    public static func mel80CepstralDistortion(ref: [Float], hyp: [Float], sampleRate: Int) -> Double {
        let spectrogram = MelSpectrogram(cepstralAnalysis(sampleRate: sampleRate))
        guard let a = try? spectrogram.melPower(ref), let b = try? spectrogram.melPower(hyp) else { return .nan }
        let frames = min(a.frames, b.frames), n = 80
        guard frames > 0 else { return .nan }
        // orthonormal DCT-II rows 1..12
        let dct: [[Double]] = (1..<cepstra).map { d in
            (0..<n).map { m in (2.0 / Double(n)).squareRoot() * cos(Double.pi * Double(d) * (2 * Double(m) + 1) / (2 * Double(n))) }
        }
        let floor = max(Double(a.values.max() ?? 0) * 1e-8, 1e-30)
        var total = 0.0
        for t in 0..<frames {
            let la = (0..<n).map { 0.5 * log(max(Double(a.values[t * n + $0]), floor)) }
            let lb = (0..<n).map { 0.5 * log(max(Double(b.values[t * n + $0]), floor)) }
            var sq = 0.0
            for row in dct {
                var d = 0.0
                for m in 0..<n { d += row[m] * (la[m] - lb[m]) }
                sq += d * d
            }
            total += 10 / M_LN10 * (2 * sq).squareRoot()
        }
        return total / Double(frames)
    }
}
