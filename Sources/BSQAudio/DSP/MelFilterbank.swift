import Foundation

/// Mel scales as librosa defines them (`librosa.hz_to_mel`, `mel_to_hz`).
public enum MelScale: String, Sendable, CaseIterable {
    /// Slaney's Auditory Toolbox: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
    case slaney
    /// HTK: 2595 · log10(1 + f/700).
    case htk

    public func mel(_ hz: Double) -> Double {
        switch self {
        case .htk: return 2595.0 * log10(1.0 + hz / 700.0)
        case .slaney:
            let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, logstep = log(6.4) / 27.0
            return hz >= minLogHz ? minLogMel + log(hz / minLogHz) / logstep : hz / fsp
        }
    }

    public func hz(_ mel: Double) -> Double {
        switch self {
        case .htk: return 700.0 * (pow(10.0, mel / 2595.0) - 1.0)
        case .slaney:
            let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, logstep = log(6.4) / 27.0
            return mel >= minLogMel ? minLogHz * exp(logstep * (mel - minLogMel)) : fsp * mel
        }
    }
}

/// Area normalization of the triangles.
public enum MelNorm: String, Sendable, CaseIterable {
    /// Each triangle scaled by 2 / (its width in Hz): constant energy per channel.
    case slaney
    /// Peak 1.
    case none
}

/// The triangular mel filterbank `librosa.filters.mel(sr, n_fft, n_mels, fmin,
/// fmax, htk, norm)` of an analysis, computed in double like librosa and
/// stored in float32.
/// torchaudio's `melscale_fbanks` is the same construction on the same
/// frequency grid (its float32 arithmetic differs by rounding only).
public struct MelFilterbank: Sendable {
    public let nMels: Int
    public let bins: Int
    /// Row-major [bins, nMels]: the transpose of librosa's [n_mels, 1 + n_fft/2],
    /// so that [frames, bins] × this = [frames, n_mels] in one sgemm.
    public let weightsT: [Float]
    /// Groups of 16 consecutive filters with the FFT bins they cover: the
    /// triangles are narrow, so one sgemm per band over its own bins skips
    /// the zeros (five times fewer flops at 128 mels) and adds the same terms.
    public let bands: [Band]

    public struct Band: Sendable, Equatable {
        public let mels: Range<Int>
        public let bins: Range<Int>
    }

    public init(_ analysis: MelAnalysis) {
        let sampleRate = Double(analysis.sampleRate), nFFT = analysis.nFFT, nMels = analysis.nMels
        let fmin = analysis.fmin, fmax = analysis.resolvedFmax, scale = analysis.melScale, norm = analysis.norm
        self.nMels = nMels
        bins = nFFT / 2 + 1
        // np.fft.rfftfreq(n_fft, 1/sr)
        let fftFreqs = (0..<bins).map { Double($0) * sampleRate / Double(nFFT) }
        // mel_frequencies(n_mels + 2, fmin, fmax): np.linspace in mel, back to Hz
        let lo = scale.mel(fmin), hi = scale.mel(fmax)
        let count = nMels + 2
        let step = (hi - lo) / Double(count - 1)
        var melF = (0..<count).map { scale.hz(lo + Double($0) * step) }
        melF[count - 1] = scale.hz(hi)
        var w = [Float](repeating: 0, count: bins * nMels)
        for i in 0..<nMels {
            let fdiffLo = melF[i + 1] - melF[i], fdiffHi = melF[i + 2] - melF[i + 1]
            let enorm = norm == .slaney ? 2.0 / (melF[i + 2] - melF[i]) : 1.0
            for k in 0..<bins {
                let lower = -(melF[i] - fftFreqs[k]) / fdiffLo
                let upper = (melF[i + 2] - fftFreqs[k]) / fdiffHi
                // librosa stores the triangle in float32, then scales it in double
                let v = Float(max(0.0, min(lower, upper)))
                w[k * nMels + i] = norm == .slaney ? Float(Double(v) * enorm) : v
            }
        }
        weightsT = w
        var bands: [Band] = []
        for m0 in stride(from: 0, to: nMels, by: 16) {
            let mels = m0..<min(m0 + 16, nMels)
            let used = (0..<bins).filter { k in mels.contains { w[k * nMels + $0] != 0 } }
            bands.append(Band(mels: mels, bins: (used.first ?? 0)..<((used.last ?? -1) + 1)))
        }
        self.bands = bands
    }

    /// M = P · F for `rows` power spectra P (`[rows, bins]`) into `out`
    /// (`[rows, nMels]`): one sgemm per band, over the bins it covers.
    public func apply(_ powers: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        weightsT.withUnsafeBufferPointer { fb in
            for band in bands {
                if band.bins.isEmpty {
                    for r in 0..<rows { (out + r * nMels + band.mels.lowerBound).update(repeating: 0, count: band.mels.count) }
                    continue
                }
                BLAS.sgemm(m: rows, n: band.mels.count, k: band.bins.count,
                           a: powers + band.bins.lowerBound, lda: bins,
                           b: fb.baseAddress! + band.bins.lowerBound * nMels + band.mels.lowerBound, ldb: nMels,
                           c: out + band.mels.lowerBound, ldc: nMels)
            }
        }
    }
}
