import Foundation

/// The vocoder's training loss between predicted and target waveforms
/// [batch, L] (docs/vocoder.md), with its exact gradient:
///
///     L = mel_weight · mean_r L_mel,r + stft_weight · mean_r (SC_r + LogMag_r)
///
/// Every STFT is `torch.stft(center=True, pad_mode="reflect")` with a
/// periodic Hann window of `win` samples centred in n_fft.
/// - L_mel,r = mean |log max(M(y), 1e-5) − log max(M(ŷ), 1e-5)|, M = the
///   magnitude (power 1) through librosa's slaney mel filterbank of n_mels bands (HiFi-GAN's ×45 loss, at two resolutions);
/// - SC_r = ‖|Y| − |Ŷ|‖_F / ‖|Y|‖_F over the whole batch, LogMag_r =
///   mean |log|Y| − log|Ŷ||, with |X| = √max(re² + im², 1e-7) (Parallel WaveGAN's multi-resolution STFT loss).
public struct SpectralLoss: Sendable {
    public struct Resolution: Sendable, Equatable {
        public let nFFT: Int, hop: Int, win: Int
        /// Mel bands (mel resolutions) or 0 (STFT resolutions).
        public let nMels: Int
        public init(nFFT: Int, hop: Int, win: Int? = nil, nMels: Int = 0) {
            self.nFFT = nFFT; self.hop = hop; self.win = win ?? nFFT; self.nMels = nMels
        }
    }

    public static let melResolutions = [Resolution(nFFT: 512, hop: 128, nMels: 64), Resolution(nFFT: 1024, hop: 256, nMels: 128)]
    public static let stftResolutions = [Resolution(nFFT: 512, hop: 50, win: 240), Resolution(nFFT: 1024, hop: 120, win: 600),
                                         Resolution(nFFT: 2048, hop: 240, win: 1200)]
    public static let melFloor: Float = 1e-5, powerFloor: Float = 1e-7

    /// One resolution's transform, window and (mel resolutions) filterbank.
    struct Analysis: Sendable {
        let r: Resolution
        let window: [Float]
        let fft: RealFFT
        let filterbank: MelFilterbank?
        var bins: Int { r.nFFT / 2 + 1 }
        func frames(_ L: Int) -> Int { 1 + L / r.hop }
    }

    public let melWeight: Double, stftWeight: Double
    let mel: [Analysis], stft: [Analysis]

    public init(sampleRate: Int, melWeight: Double = 45, stftWeight: Double = 1,
                mel: [Resolution] = SpectralLoss.melResolutions, stft: [Resolution] = SpectralLoss.stftResolutions) {
        self.melWeight = melWeight
        self.stftWeight = stftWeight
        func analysis(_ r: Resolution) -> Analysis {
            var fb: MelFilterbank?
            if r.nMels > 0 {
                var a = MelAnalysis()
                a.sampleRate = sampleRate; a.nFFT = r.nFFT; a.nMels = r.nMels
                fb = MelFilterbank(a)
            }
            return Analysis(r: r, window: STFT.hannWindow(nFFT: r.nFFT, length: r.win), fft: RealFFT.shared(r.nFFT), filterbank: fb)
        }
        // a term of weight 0 is not computed (its value reads 0)
        self.mel = melWeight > 0 ? mel.map(analysis) : []
        self.stft = stftWeight > 0 ? stft.map(analysis) : []
    }

    /// The shortest waveform every resolution's reflect padding takes (more than n_fft/2 samples).
    public var minimumLength: Int { (mel + stft).map { $0.r.nFFT / 2 + 1 }.max() ?? 1 }

    public struct Value: Sendable {
        public var total: Double, mel: Double, stft: Double
    }

    /// The loss of `predicted` (rows `stride` floats apart, the first L of each
    /// compared) against `target` ([batch, L]); with `gradient` (same layout as
    /// `predicted`), ∂L/∂ŷ is added to its first L floats of each row.
    public func evaluate(predicted: UnsafePointer<Float>, stride: Int, target: UnsafePointer<Float>, batch B: Int, length L: Int,
                         gradient: UnsafeMutablePointer<Float>?, threads: Int) -> Value {
        precondition(L >= minimumLength, "waveforms of \(L) samples are too short for the loss's resolutions")
        let workers = Workers(threads: threads, rows: B, blockRows: 1)
        var melSum = 0.0, stftSum = 0.0
        for a in mel {
            let F = a.frames(L), bins = a.bins, nm = a.r.nMels, fb = a.filterbank!
            let count = Double(B * F * nm), weight = melWeight / Double(mel.count)
            var parts = [Double](repeating: 0, count: B)
            parts.withUnsafeMutableBufferPointer { part in
                workers.tasks(B) { b, _ in
                    var spec = Self.analyze(a, predicted + b * stride, L)
                    let my = Self.magnitudes(Self.analyze(a, target + b * L, L), floor: nil)
                    let mh = Self.magnitudes(spec, floor: nil)
                    var melY = [Float](repeating: 0, count: F * nm), melH = melY
                    fb.apply(my, rows: F, into: &melY)
                    fb.apply(mh, rows: F, into: &melH)
                    var s = 0.0
                    var dmel = [Float](repeating: 0, count: F * nm)
                    for i in 0..<(F * nm) {
                        let ly = log(max(melY[i], SpectralLoss.melFloor)), lh = log(max(melH[i], SpectralLoss.melFloor))
                        s += Double(abs(ly - lh))
                        if melH[i] >= SpectralLoss.melFloor, lh != ly { dmel[i] = Float(weight / count) * (lh > ly ? 1 : -1) / melH[i] }
                    }
                    part[b] = s
                    guard let gradient else { return }
                    // d|X| = dmel · Fᵀ, then through |X| = √(re² + im²)
                    var dm = [Float](repeating: 0, count: F * bins)
                    BLAS.sgemm(transB: true, m: F, n: bins, k: nm, a: dmel, b: fb.weightsT, c: &dm)
                    for j in 0..<(F * bins) {
                        let re = spec[2 * j], im = spec[2 * j + 1], m = mh[j]
                        spec[2 * j] = m > 0 ? dm[j] * re / m : 0
                        spec[2 * j + 1] = m > 0 ? dm[j] * im / m : 0
                    }
                    Self.synthesizeGradient(a, spec, L, into: gradient + b * stride)
                }
            }
            melSum += parts.reduce(0, +) / count
        }
        for a in stft {
            let F = a.frames(L), bins = a.bins, n = F * bins
            let count = Double(B * n), weight = stftWeight / Double(stft.count)
            var specs = [[Float]](repeating: [], count: B), mys = specs, mhs = specs
            var sums = [(diff: Double, y: Double, log: Double)](repeating: (0, 0, 0), count: B)
            specs.withUnsafeMutableBufferPointer { sp in
                mys.withUnsafeMutableBufferPointer { yp in
                    mhs.withUnsafeMutableBufferPointer { hp in
                        sums.withUnsafeMutableBufferPointer { su in
                            workers.tasks(B) { b, _ in
                                sp[b] = Self.analyze(a, predicted + b * stride, L)
                                yp[b] = Self.magnitudes(Self.analyze(a, target + b * L, L), floor: SpectralLoss.powerFloor)
                                hp[b] = Self.magnitudes(sp[b], floor: SpectralLoss.powerFloor)
                                var d = 0.0, y = 0.0, l = 0.0
                                for j in 0..<n {
                                    let my = Double(yp[b][j]), mh = Double(hp[b][j])
                                    d += (my - mh) * (my - mh); y += my * my
                                    l += Double(abs(log(yp[b][j]) - log(hp[b][j])))
                                }
                                su[b] = (d, y, l)
                            }
                        }
                    }
                }
            }
            let diff = sums.reduce(0) { $0 + $1.diff }.squareRoot(), norm = sums.reduce(0) { $0 + $1.y }.squareRoot()
            let sc = diff / norm, logMag = sums.reduce(0) { $0 + $1.log } / count
            stftSum += sc + logMag
            guard let gradient else { continue }
            let scScale = diff > 0 ? weight / (diff * norm) : 0
            workers.tasks(B) { b, _ in
                var spec = specs[b]
                let my = mys[b], mh = mhs[b]
                for j in 0..<n {
                    let ly = logf(my[j]), lh = logf(mh[j])
                    var dm = Float(scScale) * (mh[j] - my[j])
                    if lh != ly { dm += Float(weight / count) * (lh > ly ? 1 : -1) / mh[j] }
                    let re = spec[2 * j], im = spec[2 * j + 1]
                    let passes = re * re + im * im >= SpectralLoss.powerFloor
                    spec[2 * j] = passes ? dm * re / mh[j] : 0
                    spec[2 * j + 1] = passes ? dm * im / mh[j] : 0
                }
                Self.synthesizeGradient(a, spec, L, into: gradient + b * stride)
            }
        }
        let m = melSum / Double(max(mel.count, 1)), s = stftSum / Double(max(stft.count, 1))
        return Value(total: melWeight * m + stftWeight * s, mel: m, stft: s)
    }

    /// The STFT of x[0 ..< L]: frames × bins interleaved (re, im).
    static func analyze(_ a: Analysis, _ x: UnsafePointer<Float>, _ L: Int) -> [Float] {
        let N = a.r.nFFT, P = N / 2, F = a.frames(L), bins = a.bins
        var padded = [Float](repeating: 0, count: L + 2 * P)
        padded.withUnsafeMutableBufferPointer { STFT.pad(UnsafeBufferPointer(start: x, count: L), by: P, mode: .reflect, into: $0) }
        var out = [Float](repeating: 0, count: F * 2 * bins)
        let frame = AlignedFloats(count: N), spectrum = AlignedFloats(count: 2 * bins)
        for t in 0..<F {
            for i in 0..<N { frame[i] = padded[t * a.r.hop + i] * a.window[i] }
            a.fft.forward(frame.pointer, spectrum.pointer)
            out.withUnsafeMutableBufferPointer { (($0.baseAddress! + t * 2 * bins)).update(from: spectrum.pointer, count: 2 * bins) }
        }
        return out
    }

    /// |X| per bin, √max(re² + im², floor) with a floor.
    static func magnitudes(_ spec: [Float], floor: Float?) -> [Float] {
        (0..<(spec.count / 2)).map { j in
            let p = spec[2 * j] * spec[2 * j] + spec[2 * j + 1] * spec[2 * j + 1]
            return (floor.map { max(p, $0) } ?? p).squareRoot()
        }
    }

    /// Adds to g[0 ..< L] the gradient that the spectrum gradient `dspec`
    /// (∂/∂re, ∂/∂im per bin, frames × bins) sends back through the STFT: each
    /// frame's adjoint rfft (a c2r of the halved middle bins), the window, the reflect padding.
    static func synthesizeGradient(_ a: Analysis, _ dspec: [Float], _ L: Int, into g: UnsafeMutablePointer<Float>) {
        let N = a.r.nFFT, P = N / 2, F = a.frames(L), bins = a.bins
        var dpad = [Float](repeating: 0, count: L + 2 * P)
        let frame = AlignedFloats(count: N), spectrum = AlignedFloats(count: 2 * bins)
        for t in 0..<F {
            for k in 0..<bins {
                let half: Float = k == 0 || k == bins - 1 ? 1 : 0.5
                spectrum[2 * k] = dspec[t * 2 * bins + 2 * k] * half
                spectrum[2 * k + 1] = k == 0 || k == bins - 1 ? 0 : dspec[t * 2 * bins + 2 * k + 1] * half
            }
            a.fft.inverse(spectrum.pointer, frame.pointer)
            for i in 0..<N { dpad[t * a.r.hop + i] += frame[i] * a.window[i] }
        }
        for j in 0..<(L + 2 * P) { g[STFT.reflectIndex(j - P, length: L)] += dpad[j] }
    }
}
