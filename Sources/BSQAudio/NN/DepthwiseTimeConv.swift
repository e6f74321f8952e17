/// The Conformer module's depthwise convolution along time, separately for
/// each frequency band of a [nt, nf] token grid (channels last):
///     y[it, jf, c] = bias[c] + Σ_k weight[c, k] · x[it + k − (K−1)/2, jf, c]
/// with zeros outside 0 ..< nt.
public enum DepthwiseTimeConv {
    /// Convolves the frequency bands `bands` (all by default) of every sequence.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               sequences: Int, nt: Int, nf: Int, channels w: Int, kernel K: Int,
                               bands: Range<Int>? = nil) {
        // kernel taps transposed to [K, w] so that each tap is a contiguous axpy
        var taps = [Float](repeating: 0, count: K * w)
        for c in 0..<w { for k in 0..<K { taps[k * w + c] = weight[c * K + k] } }
        let half = (K - 1) / 2
        taps.withUnsafeBufferPointer { t in
            for s in 0..<sequences {
                for it in 0..<nt {
                    for jf in bands ?? 0..<nf {
                        let o = out + ((s * nt + it) * nf + jf) * w
                        o.update(from: bias, count: w)
                        for k in 0..<K {
                            let src = it + k - half
                            if src < 0 || src >= nt { continue }
                            let xi = x + ((s * nt + src) * nf + jf) * w, tk = t.baseAddress! + k * w
                            for c in 0..<w { o[c] += tk[c] * xi[c] }
                        }
                    }
                }
            }
        }
    }

    /// Accumulates the gradients of `forward` over every band:
    ///     dx[it + k − (K−1)/2, jf, c] += weight[c, k]·dy[it, jf, c]
    ///     dweight[c, k] += Σ dy[it, jf, c]·x[it + k − (K−1)/2, jf, c],   dbias[c] += Σ dy
    public static func backward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                sequences: Int, nt: Int, nf: Int, channels w: Int, kernel K: Int) {
        // taps and their gradient transposed to [K, w], so that each inner loop is contiguous
        let half = (K - 1) / 2
        var taps = [Float](repeating: 0, count: K * w), dtaps = taps
        for c in 0..<w { for k in 0..<K { taps[k * w + c] = weight[c * K + k] } }
        taps.withUnsafeBufferPointer { tb in
            dtaps.withUnsafeMutableBufferPointer { db in
                let t = tb.baseAddress!, d = db.baseAddress!
                for s in 0..<sequences {
                    for it in 0..<nt {
                        for jf in 0..<nf {
                            let dy = dout + ((s * nt + it) * nf + jf) * w
                            Vector.add(dbias, dy, w)
                            for k in 0..<K {
                                let src = it + k - half
                                if src < 0 || src >= nt { continue }
                                let off = ((s * nt + src) * nf + jf) * w
                                let xi = x + off, dxi = dx + off, tk = t + k * w, dk = d + k * w
                                for c in 0..<w {
                                    dxi[c] += tk[c] * dy[c]
                                    dk[c] += dy[c] * xi[c]
                                }
                            }
                        }
                    }
                }
            }
        }
        for c in 0..<w { for k in 0..<K { dweight[c * K + k] += dtaps[k * w + c] } }
    }
}
