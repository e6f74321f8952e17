/// LayerNorm over the last axis (eps 1e-5 unless given, biased variance):
///     out = (x − mean) / √(var + eps) · weight + bias
/// Mean and variance are accumulated in double. `mean`/`rstd` (per row) are
/// the cache the backward pass needs.
public enum LayerNorm {
    public static let eps = 1e-5

    public static func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int,
                               mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil,
                               eps: Double = LayerNorm.eps) {
        for r in 0..<rows {
            let xr = x + r * cols, o = out + r * cols
            var s = 0.0
            for i in 0..<cols { s += Double(xr[i]) }
            let m = s / Double(cols)
            var v = 0.0
            for i in 0..<cols { let d = Double(xr[i]) - m; v += d * d }
            let rs = 1 / (v / Double(cols) + eps).squareRoot()
            let mf = Float(m), rf = Float(rs)
            for i in 0..<cols { o[i] = (xr[i] - mf) * rf * weight[i] + bias[i] }
            mean?[r] = mf
            rstd?[r] = rf
        }
    }

    /// Accumulates dx, dweight, dbias from dout, with the forward's cache:
    ///     n = (x − mean)·rstd,  g = weight ⊙ dout
    ///     dx += rstd · (g − mean(g) − n · mean(g ⊙ n)),  dweight += n ⊙ dout,  dbias += dout
    public static func backward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let xr = x + r * cols, d = dout + r * cols, o = dx + r * cols
            let m = mean[r], rs = rstd[r]
            var gMean: Float = 0, gnMean: Float = 0
            for i in 0..<cols {
                let n = (xr[i] - m) * rs, g = weight[i] * d[i]
                gMean += g
                gnMean += g * n
            }
            gMean /= Float(cols)
            gnMean /= Float(cols)
            for i in 0..<cols {
                let n = (xr[i] - m) * rs
                dbias[i] += d[i]
                dweight[i] += n * d[i]
                o[i] += rs * (weight[i] * d[i] - gMean - n * gnMean)
            }
        }
    }
}
