/// BatchNorm over the channels of NCHW images (`nn.BatchNorm2d`, eps 1e-5),
/// training mode: statistics of each channel over the batch and every
/// position (biased variance; sums in double), running statistics updated as
/// PyTorch does (momentum 0.1, unbiased variance) when given. With `across`,
/// the statistics are those of the images of all its processes (SyncBatchNorm).
///     y = (x − mean_c)·rstd_c·weight_c + bias_c
public enum BatchNorm2d {
    public static func training(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                                weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                runningMean: UnsafeMutablePointer<Float>?, runningVariance: UnsafeMutablePointer<Float>?,
                                mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, momentum: Float = 0.1,
                                across: Collective? = nil) {
        var sums = [Double](repeating: 0, count: 2 * channels + 1)   // Σx per channel, Σx² per channel, count
        for c in 0..<channels {
            var sum = 0.0, sq = 0.0
            for b in 0..<batch {
                let p = x + (b * channels + c) * spatial
                for i in 0..<spatial { let v = Double(p[i]); sum += v; sq += v * v }
            }
            sums[c] = sum; sums[channels + c] = sq
        }
        sums[2 * channels] = Double(batch * spatial)
        if let across, across.size > 1 { sums = across.sum(sums) }   // the whole batch's (SyncBatchNorm)
        let n = sums[2 * channels]
        for c in 0..<channels {
            let m = sums[c] / n, v = max(sums[channels + c] / n - m * m, 0)
            mean[c] = Float(m)
            rstd[c] = Float(1 / (v + Double(BatchNorm.eps)).squareRoot())
            if let runningMean, let runningVariance {
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * Float(m)
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * Float(n > 1 ? v * n / (n - 1) : v)
            }
            for b in 0..<batch {
                let p = x + (b * channels + c) * spatial, o = out + (b * channels + c) * spatial
                for i in 0..<spatial { o[i] = (p[i] - mean[c]) * rstd[c] * weight[c] + bias[c] }
            }
        }
    }

    /// Accumulates the gradients of `training` (x̂ = (x − mean)·rstd, g = weight·dout):
    ///     dx += rstd·(g − mean(g) − x̂·mean(g·x̂)),  dweight += Σ x̂·dout,  dbias += Σ dout
    public static func backward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                                across: Collective? = nil) {
        var sums = [Double](repeating: 0, count: 2 * channels + 1)   // Σg, Σg·x̂ per channel, count
        for c in 0..<channels {
            var gSum = 0.0, gnSum = 0.0, db = 0.0, dw = 0.0
            for b in 0..<batch {
                let o = (b * channels + c) * spatial
                for i in 0..<spatial {
                    let xh = (x[o + i] - mean[c]) * rstd[c], d = dout[o + i]
                    db += Double(d)
                    dw += Double(xh * d)
                    gSum += Double(weight[c] * d)
                    gnSum += Double(weight[c] * d * xh)
                }
            }
            dbias?[c] += Float(db)
            dweight?[c] += Float(dw)
            sums[c] = gSum; sums[channels + c] = gnSum
        }
        sums[2 * channels] = Double(batch * spatial)
        if let across, across.size > 1 { sums = across.sum(sums) }
        let n = sums[2 * channels]
        for c in 0..<channels {
            let gMean = Float(sums[c] / n), gnMean = Float(sums[channels + c] / n)
            for b in 0..<batch {
                let o = (b * channels + c) * spatial
                for i in 0..<spatial {
                    let xh = (x[o + i] - mean[c]) * rstd[c]
                    dx[o + i] += rstd[c] * (weight[c] * dout[o + i] - gMean - xh * gnMean)
                }
            }
        }
    }
}
