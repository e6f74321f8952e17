import Foundation

/// The vocoder's head after `head.out`: each frame's row [log|S| ‖ φ]
/// (n_fft/2 + 1 values each) becomes the spectrum S = min(e^{log|S|}, 100)·e^{iφ},
/// and the frames an inverse STFT with Vocos's "same" padding:
///
///     s_t[n]  = w[n] · irfft(S_t)[n]                 (n_fft = 4·hop, periodic Hann w of n_fft)
///     full[j] = Σ_t s_t[j − t·hop],   env[j] = Σ_t w²[j − t·hop]      (j < (T−1)·hop + n_fft)
///     y[n]    = full[n + p] / env[n + p],  n < T·hop,   p = (n_fft − hop)/2
///
/// irfft is `torch.fft.irfft` (1/n_fft, the imaginary parts of bins 0 and
/// n_fft/2 ignored), through FFTW's c2r. The backward is the exact adjoint:
/// an rfft of each frame's gradient, doubled on the bins that stand for two.
public struct InverseSTFTHead: Sendable {
    public let nFFT: Int, hop: Int, pad: Int, bins: Int
    public let window: [Float]
    let fft: RealFFT
    public static let maxMagnitude: Float = 100

    public init(_ c: VocoderConfig) {
        nFFT = c.nFFT; hop = c.hop_length; pad = c.istftPad; bins = c.bins
        window = STFT.hannWindow(nFFT: c.nFFT, length: c.nFFT)
        fft = RealFFT.shared(c.nFFT)
    }

    /// 1/env over the T·hop output samples (0 where env ≤ 1e-11, which Vocos forbids and a Hann window at hop n_fft/4 never gives).
    public func inverseEnvelope(frames T: Int) -> [Float] {
        var sum = [Float](repeating: 0, count: (T - 1) * hop + nFFT)
        for t in 0..<T { for i in 0..<nFFT { sum[t * hop + i] += window[i] * window[i] } }
        return (0..<(T * hop)).map { n in sum[n + pad] > 1e-11 ? 1 / sum[n + pad] : 0 }
    }

    /// Buffers for one thread's frames.
    final class Workspace {
        let frame: AlignedFloats, spectrum: AlignedFloats
        init(nFFT: Int) { frame = AlignedFloats(count: nFFT); spectrum = AlignedFloats(count: 2 * (nFFT / 2 + 1)) }
    }

    /// One frame's windowed signal w·irfft(S) into `ws.frame` from its head row.
    @inline(__always)
    func frameSignal(_ row: UnsafePointer<Float>, _ ws: Workspace) {
        let s = ws.spectrum.pointer, f = ws.frame.pointer
        for k in 0..<bins {
            let m = min(expf(row[k]), InverseSTFTHead.maxMagnitude), p = row[bins + k]
            s[2 * k] = m * cosf(p)
            s[2 * k + 1] = m * sinf(p)
        }
        fft.inverse(s, f)
        let scale = 1 / Float(nFFT)
        for i in 0..<nFFT { f[i] *= window[i] * scale }
    }

    /// The T·hop samples of one sequence from its head rows [T, n_fft + 2].
    public func synthesize(spectra: UnsafePointer<Float>, frames T: Int, into y: UnsafeMutablePointer<Float>) {
        let ws = Workspace(nFFT: nFFT)
        var full = [Float](repeating: 0, count: (T - 1) * hop + nFFT)
        full.withUnsafeMutableBufferPointer { out in
            for t in 0..<T {
                frameSignal(spectra + t * (nFFT + 2), ws)
                let o = out.baseAddress! + t * hop
                for i in 0..<nFFT { o[i] += ws.frame[i] }
            }
        }
        let inv = inverseEnvelope(frames: T)
        for n in 0..<(T * hop) { y[n] = full[n + pad] * inv[n] }
    }

    /// The head rows' gradient [T, n_fft + 2] from the samples' `dy` [T·hop].
    public func backward(dspectra: UnsafeMutablePointer<Float>, daudio dy: UnsafePointer<Float>, spectra: UnsafePointer<Float>, frames T: Int) {
        let ws = Workspace(nFFT: nFFT), inv = inverseEnvelope(frames: T)
        var dfull = [Float](repeating: 0, count: (T - 1) * hop + nFFT)
        for n in 0..<(T * hop) { dfull[n + pad] = dy[n] * inv[n] }
        let f = ws.frame.pointer, s = ws.spectrum.pointer, scale = 1 / Float(nFFT)
        for t in 0..<T {
            for i in 0..<nFFT { f[i] = dfull[t * hop + i] * window[i] }
            fft.forward(f, s)
            let row = spectra + t * (nFFT + 2), d = dspectra + t * (nFFT + 2)
            for k in 0..<bins {
                let both: Float = k == 0 || k == bins - 1 ? 1 : 2
                let dre = s[2 * k] * both * scale, dim = k == 0 || k == bins - 1 ? 0 : s[2 * k + 1] * both * scale
                let e = expf(row[k]), m = min(e, InverseSTFTHead.maxMagnitude), p = row[bins + k]
                let c = cosf(p), sn = sinf(p)
                let dm = dre * c + dim * sn
                d[k] = e <= InverseSTFTHead.maxMagnitude ? dm * e : 0
                d[bins + k] = m * (dim * c - dre * sn)
            }
        }
    }

    /// Inference: `head.out` and the inverse STFT of `features` [T, dim] by
    /// blocks of frames (the head's rows never all held), into y [T·hop].
    func synthesize(features: UnsafePointer<Float>, frames T: Int, head: Dense, weights w: Weights,
                    into y: UnsafeMutablePointer<Float>, arena: Arena, workers: Workers) {
        let width = nFFT + 2, bs = workers.blockRows, nw = workers.threads, mark = arena.mark()
        defer { arena.release(mark) }
        let rows = arena.allocate(nw * bs * width), frames = arena.allocate(nw * bs * nFFT)
        let full = arena.zeros((T - 1) * hop + nFFT)
        let blocks = workers.blockCount
        for first in stride(from: 0, to: blocks, by: nw) {
            let group = min(nw, blocks - first)
            workers.tasks(group) { j, _ in
                let r0 = (first + j) * bs, n = min(bs, T - r0), hr = rows + j * bs * width
                head.forward(w, hr, features + r0 * head.inDim, rows: n)
                let ws = Workspace(nFFT: nFFT)
                for r in 0..<n {
                    frameSignal(hr + r * width, ws)
                    (frames + (j * bs + r) * nFFT).update(from: ws.frame.pointer, count: nFFT)
                }
            }
            for j in 0..<group {
                let r0 = (first + j) * bs, n = min(bs, T - r0)
                for r in 0..<n {
                    let o = full + (r0 + r) * hop, fr = frames + (j * bs + r) * nFFT
                    for i in 0..<nFFT { o[i] += fr[i] }
                }
            }
        }
        let inv = inverseEnvelope(frames: T)
        for n in 0..<(T * hop) { y[n] = full[n + pad] * inv[n] }
    }
}
