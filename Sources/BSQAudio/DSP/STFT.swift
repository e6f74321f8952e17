import Foundation

/// librosa's `stft` and `istft` with a periodic Hann window of `win_length`
/// centred in N = `n_fft`, hop `hop_length`, and (when centred) the signal
/// padded by N/2 each side, on the FFTW plans of `RealFFT`:
///
///     X[t, k] = Σₙ w[n] · ỹ[t·hop + n] · e^{−2πikn/N}
///     y[n]    = Σₜ w[n − t·hop] · irfft(X[t])[n − t·hop]  /  Σₜ w²[n − t·hop]
///
/// (the division only where the window sum-square exceeds the smallest
/// normal float, then N/2 samples trimmed each side when centred). Spectra
/// are time-major, `[frames, bins]` of interleaved (re, im) pairs.
public struct STFT: Sendable {
    public let nFFT: Int
    public let hop: Int
    public let center: Bool
    public let padMode: MelAnalysis.PadMode
    /// The window, zero outside its `win_length` samples.
    public let window: [Float]
    let fft: RealFFT

    public init(_ analysis: MelAnalysis) {
        nFFT = analysis.nFFT
        hop = analysis.hopLength
        center = analysis.center
        padMode = analysis.padMode
        window = STFT.hannWindow(nFFT: analysis.nFFT, length: analysis.resolvedWinLength)
        fft = RealFFT.shared(analysis.nFFT)
    }

    /// A periodic Hann window of `length` centred in `nFFT` zeros (librosa's `get_window` + `pad_center`).
    public static func hannWindow(nFFT n: Int, length wl: Int) -> [Float] {
        var w = [Float](repeating: 0, count: n)
        let left = (n - wl) / 2
        for i in 0..<wl { w[left + i] = Float(0.5 - 0.5 * cos(2.0 * Double.pi * Double(i) / Double(wl))) }
        return w
    }

    public var bins: Int { nFFT / 2 + 1 }

    /// Frames of the STFT of `samples` samples: librosa's 1 + (L − N) / hop
    /// for the signal of L samples once padded, nil when that is shorter than
    /// one window (too short without centring, which librosa refuses too).
    public func frameCount(samples: Int) -> Int? {
        let padded = center ? samples + 2 * (nFFT / 2) : samples
        return padded < nFFT ? nil : 1 + (padded - nFFT) / hop
    }

    /// Samples `istft` makes from `frames` frames (librosa's length with `length=None`).
    public func signalLength(frames: Int) -> Int {
        guard frames > 0 else { return 0 }
        return nFFT + hop * (frames - 1) - (center ? 2 * (nFFT / 2) : 0)
    }

    /// Buffers one thread reuses across transforms.
    public final class Workspace {
        let frame: AlignedFloats
        let spectrum: AlignedFloats
        var padded: [Float] = []
        /// 1 / Σₜ w²[n − t·hop] (0 where that sum is tiny), for one frame count.
        var normalizer: (frames: Int, values: [Float])?

        public init(nFFT: Int) {
            frame = AlignedFloats(count: nFFT)
            spectrum = AlignedFloats(count: 2 * (nFFT / 2 + 1))
        }
    }

    /// The STFT of `y` into `spectrum` (`frameCount(y.count)` rows of 2·bins floats).
    public func forward(_ y: UnsafeBufferPointer<Float>, into spectrum: UnsafeMutablePointer<Float>, _ ws: Workspace) {
        let frames = frameCount(samples: y.count) ?? 0
        withFrames(of: y, ws) { frame in
            for t in 0..<frames {
                frame(t)
                (spectrum + t * 2 * bins).update(from: ws.spectrum.pointer, count: 2 * bins)
            }
        }
    }

    /// The spectrogram |X[t, k]|^power of `y`, block by block of frames: the
    /// frames of a block (at most `blockFrames`) go into `rows`, `blockFrames`
    /// rows of `bins` floats (after a short last block, the rows past it are
    /// zero), then `body(t0, count)` takes frames t0 ..< t0 + count. For a
    /// caller that reduces the spectra a block at a time (the mel filterbank)
    /// without holding them all.
    public func powerSpectrogram(_ y: UnsafeBufferPointer<Float>, power: Double, blockFrames: Int,
                                 into rows: UnsafeMutablePointer<Float>, _ ws: Workspace,
                                 _ body: (_ t0: Int, _ count: Int) -> Void) {
        let frames = frameCount(samples: y.count) ?? 0
        let s = ws.spectrum.pointer, half = Float(power / 2)
        withFrames(of: y, ws) { frame in
            var t0 = 0
            while t0 < frames {
                let count = min(blockFrames, frames - t0)
                for j in 0..<count {
                    frame(t0 + j)
                    let row = rows + j * bins
                    if power == 2 {
                        for k in 0..<bins { row[k] = s[2 * k] * s[2 * k] + s[2 * k + 1] * s[2 * k + 1] }
                    } else if power == 1 {
                        for k in 0..<bins { row[k] = (s[2 * k] * s[2 * k] + s[2 * k + 1] * s[2 * k + 1]).squareRoot() }
                    } else {
                        for k in 0..<bins { row[k] = Foundation.pow(s[2 * k] * s[2 * k] + s[2 * k + 1] * s[2 * k + 1], half) }
                    }
                }
                if count < blockFrames { (rows + count * bins).update(repeating: 0, count: (blockFrames - count) * bins) }
                body(t0, count)
                t0 += count
            }
        }
    }

    /// Runs `body` with a function that puts the spectrum of frame t of `y`
    /// (the window times ỹ[t·hop ..< t·hop + N], ỹ padded as `pad` does when
    /// centred) into `ws.spectrum`.
    private func withFrames(of y: UnsafeBufferPointer<Float>, _ ws: Workspace, _ body: ((Int) -> Void) -> Void) {
        let pad = center ? nFFT / 2 : 0
        if ws.padded.count != y.count + 2 * pad { ws.padded = [Float](repeating: 0, count: y.count + 2 * pad) }
        ws.padded.withUnsafeMutableBufferPointer { p in
            STFT.pad(y, by: pad, mode: padMode, into: p)
            window.withUnsafeBufferPointer { w in
                let input = ws.frame.pointer
                body { t in
                    let x = p.baseAddress! + t * hop
                    for i in 0..<nFFT { input[i] = x[i] * w[i] }
                    // FFTW runs the plan's SIMD codelets: aligned buffers only
                    fft.forward(input, ws.spectrum.pointer)
                }
            }
        }
    }

    /// The inverse STFT of `frames` rows of `spectrum` into `y` (`signalLength(frames)` samples).
    public func inverse(_ spectrum: UnsafePointer<Float>, frames: Int, into y: UnsafeMutablePointer<Float>, _ ws: Workspace) {
        let full = nFFT + hop * (frames - 1), trim = center ? nFFT / 2 : 0
        let count = signalLength(frames: frames)
        if ws.padded.count != full { ws.padded = [Float](repeating: 0, count: full) }
        if ws.normalizer?.frames != frames { ws.normalizer = (frames, normalizer(frames: frames)) }
        let scale = 1 / Float(nFFT)
        ws.padded.withUnsafeMutableBufferPointer { p in
            p.update(repeating: 0)
            window.withUnsafeBufferPointer { w in
                let bins2 = 2 * bins
                for t in 0..<frames {
                    ws.spectrum.pointer.update(from: spectrum + t * bins2, count: bins2)
                    fft.inverse(ws.spectrum.pointer, ws.frame.pointer)
                    let out = p.baseAddress! + t * hop, f = ws.frame.pointer
                    for i in 0..<nFFT { out[i] += w[i] * (f[i] * scale) }
                }
            }
            ws.normalizer!.values.withUnsafeBufferPointer { norm in
                for i in 0..<count { y[i] = p[trim + i] * norm[i] }
            }
        }
    }

    /// 1 / the window sum-square over the output samples (librosa's
    /// `window_sumsquare`, summed in float32), 0 where the sum is tiny.
    func normalizer(frames: Int) -> [Float] {
        let full = nFFT + hop * (frames - 1), trim = center ? nFFT / 2 : 0
        var sum = [Float](repeating: 0, count: full)
        for t in 0..<frames { for i in 0..<nFFT { sum[t * hop + i] += window[i] * window[i] } }
        return (0..<signalLength(frames: frames)).map { i in
            let s = sum[trim + i]
            return s > Float.leastNormalMagnitude ? 1 / s : 0
        }
    }

    /// `y` with `pad` samples each side into `out`: zeros, or numpy's
    /// "reflect" (mirror without repeating the edge, repeated for signals
    /// shorter than the padding).
    public static func pad(_ y: UnsafeBufferPointer<Float>, by pad: Int, mode: MelAnalysis.PadMode, into out: UnsafeMutableBufferPointer<Float>) {
        let len = y.count
        if len > 0 { (out.baseAddress! + pad).update(from: y.baseAddress!, count: len) }
        guard pad > 0 else { return }
        guard mode == .reflect, len > 0 else {
            for j in 0..<pad { out[j] = 0; out[pad + len + j] = 0 }
            return
        }
        for j in 0..<pad {
            out[j] = y[reflectIndex(j - pad, length: len)]
            out[pad + len + j] = y[reflectIndex(len + j, length: len)]
        }
    }

    /// The sample of a signal of `length` samples that numpy's "reflect"
    /// padding puts at index `i` (any integer; mirrored without repeating the edge).
    @inline(__always)
    public static func reflectIndex(_ i: Int, length len: Int) -> Int {
        let period = 2 * (len - 1)
        if period == 0 { return 0 }
        var m = i % period
        if m < 0 { m += period }
        return m >= len ? period - m : m
    }
}
