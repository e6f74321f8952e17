import Foundation

/// Short-Time Objective Intelligibility (Taal et al. 2011) and its extended
/// form ESTOI (Jensen and Taal 2016), step for step as pystoi 0.4 computes
/// them, in double:
///
/// 1. both signals resampled to 10 kHz with pystoi's `resample_oct` (scipy's
///    `resample_poly` with Octave's Kaiser-windowed sinc, 60 dB rejection);
/// 2. frames of 256 samples (hop 128, Hann) whose clean energy is more than
///    40 dB below the loudest clean frame dropped from both, the rest
///    overlap-added back;
/// 3. a 512-point STFT of the same frames, grouped into 15 third-octave bands
///    from 150 Hz: X[j, m] = √Σ_{k ∈ band j} |x̂[k, m]|²;
/// 4. over every run of N = 30 frames and every band, with x, y the band's
///    clean and processed envelopes:
///    STOI: ȳ = min(y·‖x‖/‖y‖, x·(1 + 10^{15/20})), d = corr(x, ȳ), averaged;
///    ESTOI: each segment's matrix normalized to zero mean and unit norm along
///    time for every band, then along bands for every frame, d = Σ x̃·ỹ / N,
///    averaged over segments.
///
/// Fewer than 30 frames after step 2 give 1e-5, as pystoi returns. pystoi's
/// ESTOI adds 2⁻⁵² · N(0, 1) noise before normalizing; this leaves it out,
/// which changes nothing unless a band is exactly constant over a segment.
public enum STOI {
    static let rate = 10_000, frameLength = 256, fftSize = 512, bands = 15, minFrequency = 150.0
    static let segment = 30, beta = -15.0, dynamicRange = 40.0
    static let eps = Double.ulpOfOne

    /// STOI (or ESTOI when `extended`) of `processed` against `clean`, equal lengths, at `sampleRate`.
    public static func score(clean: [Double], processed: [Double], sampleRate: Int, extended: Bool = false) -> Double {
        precondition(clean.count == processed.count, "signals of different lengths")
        var x = clean, y = processed
        if sampleRate != rate {
            x = resampleOctave(x, up: rate, down: sampleRate)
            y = resampleOctave(y, up: rate, down: sampleRate)
        }
        (x, y) = removeSilentFrames(x, y)
        let xb = thirdOctaveEnvelopes(x), yb = thirdOctaveEnvelopes(y)
        let frames = xb.count / bands
        guard frames >= segment else { return 1e-5 }
        let segments = frames - segment + 1
        var total = 0.0
        let clip = 1 + pow(10, -beta / 20)
        var xs = [Double](repeating: 0, count: bands * segment), ys = xs
        for m in segment...frames {
            for j in 0..<bands {
                for t in 0..<segment {
                    xs[j * segment + t] = xb[(m - segment + t) * bands + j]
                    ys[j * segment + t] = yb[(m - segment + t) * bands + j]
                }
            }
            if extended {
                normalize(&xs)
                normalize(&ys)
                var d = 0.0
                for i in 0..<(bands * segment) { d += xs[i] * ys[i] / Double(segment) }
                total += d
            } else {
                for j in 0..<bands {
                    let r = (j * segment)..<((j + 1) * segment)
                    let nx = norm(xs[r]), ny = norm(ys[r])
                    let alpha = nx / (ny + eps)
                    var yp = r.map { Swift.min(ys[$0] * alpha, xs[$0] * clip) }
                    var xc = Array(xs[r])
                    center(&yp)
                    center(&xc)
                    let a = norm(yp[...]) + eps, b = norm(xc[...]) + eps
                    var d = 0.0
                    for t in 0..<segment { d += (yp[t] / a) * (xc[t] / b) }
                    total += d
                }
            }
        }
        return extended ? total / Double(segments) : total / Double(segments * bands)
    }

    static func norm(_ v: ArraySlice<Double>) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    static func center(_ v: inout [Double]) {
        let mean = v.reduce(0, +) / Double(v.count)
        for i in v.indices { v[i] -= mean }
    }

    /// ESTOI's normalization of a bands × N segment: rows (bands over time),
    /// then columns (frames over bands), to zero mean and unit norm.
    static func normalize(_ s: inout [Double]) {
        for j in 0..<bands { normalize(&s, start: j * segment, count: segment, stride: 1) }
        for t in 0..<segment { normalize(&s, start: t, count: bands, stride: segment) }
    }

    /// Zero mean and unit norm of `count` values of `s` from `start`, `stride` apart.
    static func normalize(_ s: inout [Double], start: Int, count: Int, stride: Int) {
        var mean = 0.0
        for k in 0..<count { mean += s[start + k * stride] }
        mean /= Double(count)
        var sq = 0.0
        for k in 0..<count { s[start + k * stride] -= mean; sq += s[start + k * stride] * s[start + k * stride] }
        let inv = sq > 0 ? 1 / sq.squareRoot() : 0
        for k in 0..<count { s[start + k * stride] *= inv }
    }

    /// pystoi's Hann window, `np.hanning(258)[1:-1]` (MATLAB's `hanning(256)`).
    static let window: [Double] = (0..<frameLength).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0 + 1) / Double(frameLength + 1)) }

    /// Starts of pystoi's frames: `range(0, len − 256, 128)`.
    static func frameStarts(_ count: Int) -> StrideTo<Int> { stride(from: 0, to: count - frameLength, by: frameLength / 2) }

    /// Drops the frames of both signals where the clean one is more than 40 dB
    /// below its loudest frame, and overlap-adds the windowed frames left.
    static func removeSilentFrames(_ x: [Double], _ y: [Double]) -> ([Double], [Double]) {
        let starts = Array(frameStarts(x.count)), hop = frameLength / 2
        let energies = starts.map { s in
            var e = 0.0
            for i in 0..<frameLength { let v = window[i] * x[s + i]; e += v * v }
            return 20 * log10(e.squareRoot() + eps)
        }
        let top = energies.max() ?? 0
        let kept = starts.indices.filter { top - dynamicRange - energies[$0] < 0 }
        guard !kept.isEmpty else { return ([], []) }
        let length = (kept.count - 1) * hop + frameLength
        var xo = [Double](repeating: 0, count: length), yo = xo
        for (n, f) in kept.enumerated() {
            for i in 0..<frameLength {
                xo[n * hop + i] += window[i] * x[starts[f] + i]
                yo[n * hop + i] += window[i] * y[starts[f] + i]
            }
        }
        return (xo, yo)
    }

    /// The 15 third-octave band envelopes, time-major `[frames, 15]`.
    static func thirdOctaveEnvelopes(_ x: [Double]) -> [Double] {
        let starts = Array(frameStarts(x.count))
        let fft = RealFFT.shared(fftSize)
        let input = AlignedFloats(count: fftSize), output = AlignedFloats(count: fftSize + 2)
        var out = [Double](repeating: 0, count: starts.count * bands)
        for (t, s) in starts.enumerated() {
            for i in 0..<fftSize { input[i] = i < frameLength ? Float(window[i] * x[s + i]) : 0 }
            fft.forward(input.pointer, output.pointer)
            for (j, band) in bandBins.enumerated() {
                var e = 0.0
                for k in band { let re = Double(output[2 * k]), im = Double(output[2 * k + 1]); e += re * re + im * im }
                out[t * bands + j] = e.squareRoot()
            }
        }
        return out
    }

    /// pystoi's `thirdoct(10000, 512, 15, 150)`: each band's edges moved to
    /// the nearest FFT bin (the first on a tie), the upper one excluded.
    static let bandBins: [Range<Int>] = {
        let f = (0...(fftSize / 2)).map { Double($0) * Double(rate) / Double(fftSize) }
        func nearest(_ hz: Double) -> Int {
            var best = 0
            for k in f.indices where (f[k] - hz) * (f[k] - hz) < (f[best] - hz) * (f[best] - hz) { best = k }
            return best
        }
        return (0..<bands).map { k in
            let lo = minFrequency * pow(2, (2 * Double(k) - 1) / 6), hi = minFrequency * pow(2, (2 * Double(k) + 1) / 6)
            let a = nearest(lo), b = nearest(hi)
            return a..<max(a, b)
        }
    }()

    /// pystoi's `resample_oct(x, up, down)`: scipy's `resample_poly` with
    /// Octave's `resample` filter (Kaiser window, β for 60 dB, cutoff
    /// 1 / (2·max(p, q)), transition a tenth of it), normalized to sum 1 and
    /// scaled by p, for p/q = up/down in lowest terms; ⌈n·p/q⌉ samples out.
    static func resampleOctave(_ x: [Double], up: Int, down: Int) -> [Double] {
        let g = gcd(up, down), p = up / g, q = down / g
        if p == 1 && q == 1 { return x }
        let h = octaveFilter(p: p, q: q).map { $0 * Double(p) }
        let halfLength = (h.count - 1) / 2
        let nOut = (x.count * p + q - 1) / q
        let prePad = q - halfLength % q
        let preRemove = (halfLength + prePad) / q
        var out = [Double](repeating: 0, count: nOut)
        h.withUnsafeBufferPointer { hp in
            x.withUnsafeBufferPointer { xp in
                for o in 0..<nOut {
                    let m = (o + preRemove) * q - prePad   // index into the upsampled signal, filter tap 0
                    var j = ((m % p) + p) % p
                    var s = 0.0
                    while j < hp.count {
                        let n = (m - j) / p
                        if n < 0 { break }
                        if n < xp.count { s += hp[j] * xp[n] }
                        j += p
                    }
                    out[o] = s
                }
            }
        }
        return out
    }

    static func octaveFilter(p: Int, q: Int) -> [Double] {
        let rejectionDB = 60.0
        let cutoff = 1.0 / (2 * Double(max(p, q)))
        let rollOff = cutoff / 10
        let l = Int(((rejectionDB - 8) / (28.714 * rollOff)).rounded(.up))
        let beta = 0.1102 * (rejectionDB - 8.7)
        var h = [Double](repeating: 0, count: 2 * l + 1)
        for i in 0...(2 * l) {
            let t = Double(i - l)
            let arg = 2 * cutoff * t
            let sinc = arg == 0 ? 1 : sin(Double.pi * arg) / (Double.pi * arg)
            let ratio = Double(i - l) / Double(l)
            h[i] = besselI0(beta * (1 - ratio * ratio).squareRoot()) / besselI0(beta) * 2 * Double(p) * cutoff * sinc
        }
        let sum = h.reduce(0, +)
        return h.map { $0 / sum }
    }

    /// The modified Bessel function of the first kind, order 0 (its power series).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0, k = 1.0
        let q = x * x / 4
        while term > sum * 1e-17 {
            term *= q / (k * k)
            sum += term
            k += 1
        }
        return sum
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
