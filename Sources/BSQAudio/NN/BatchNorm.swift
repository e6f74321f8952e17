/// BatchNorm over channels (last axis) with running statistics, eps 1e-5:
///     y = (x − running_mean) / √(running_var + eps) · weight + bias
public enum BatchNorm {
    public static let eps: Float = 1e-5

    public static func inference(_ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 mean: UnsafePointer<Float>, variance: UnsafePointer<Float>) {
        var scale = [Float](repeating: 0, count: channels)
        for c in 0..<channels { scale[c] = 1 / (variance[c] + eps).squareRoot() }
        for r in 0..<rows {
            let p = x + r * channels
            for c in 0..<channels { p[c] = (p[c] - mean[c]) * scale[c] * weight[c] + bias[c] }
        }
    }

    /// Training mode: normalizes with the statistics of all `rows` (biased
    /// variance), and updates the running ones as PyTorch does (momentum 0.1,
    /// unbiased variance) unless they are nil (a forward run again for the
    /// backward). `mean`/`rstd` [channels] are the backward's cache. With
    /// `across`, the statistics are those of the rows of all its processes
    /// (PyTorch's SyncBatchNorm).
    public static func training(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, channels: Int,
                                weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                runningMean: UnsafeMutablePointer<Float>?, runningVariance: UnsafeMutablePointer<Float>?,
                                mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, momentum: Float = 0.1,
                                across: Collective? = nil) {
        var sum = [Double](repeating: 0, count: channels), sq = [Double](repeating: 0, count: channels)
        for r in 0..<rows {
            for c in 0..<channels { let v = Double(x[r * channels + c]); sum[c] += v; sq[c] += v * v }
        }
        var n = Double(rows)
        if let across, across.size > 1 {
            let all = across.sum(sum + sq + [n])
            sum = Array(all[0..<channels]); sq = Array(all[channels..<(2 * channels)]); n = all[2 * channels]
        }
        for c in 0..<channels {
            let m = sum[c] / n, v = max(sq[c] / n - m * m, 0)
            mean[c] = Float(m)
            rstd[c] = Float(1 / (v + Double(eps)).squareRoot())
            if let runningMean, let runningVariance {
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * Float(m)
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * Float(rows > 1 ? v * n / (n - 1) : v)
            }
        }
        for r in 0..<rows {
            for c in 0..<channels {
                out[r * channels + c] = (x[r * channels + c] - mean[c]) * rstd[c] * weight[c] + bias[c]
            }
        }
    }

    /// Accumulates the gradients of `training` (x̂ = (x − mean)·rstd, g = weight ⊙ dout):
    ///     dx += rstd·(g − mean_rows(g) − x̂·mean_rows(g ⊙ x̂)),  dweight += Σ x̂ ⊙ dout,  dbias += Σ dout
    /// (the row means over all processes of `across`; dweight and dbias hold this process's part).
    public static func trainingBackward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                        dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int,
                                        across: Collective? = nil) {
        var gMean = [Double](repeating: 0, count: channels), gnMean = [Double](repeating: 0, count: channels)
        for r in 0..<rows {
            for c in 0..<channels {
                let i = r * channels + c
                let n = (x[i] - mean[c]) * rstd[c]
                dbias[c] += dout[i]
                dweight[c] += n * dout[i]
                gMean[c] += Double(weight[c] * dout[i])
                gnMean[c] += Double(weight[c] * dout[i] * n)
            }
        }
        var n = Double(rows)
        if let across, across.size > 1 {
            let all = across.sum(gMean + gnMean + [n])
            gMean = Array(all[0..<channels]); gnMean = Array(all[channels..<(2 * channels)]); n = all[2 * channels]
        }
        for c in 0..<channels { gMean[c] /= n; gnMean[c] /= n }
        for r in 0..<rows {
            for c in 0..<channels {
                let i = r * channels + c
                let n = (x[i] - mean[c]) * rstd[c]
                dx[i] += rstd[c] * (weight[c] * dout[i] - Float(gMean[c]) - n * Float(gnMean[c]))
            }
        }
    }
}
