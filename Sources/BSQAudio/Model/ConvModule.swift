/// The Conformer convolution module (`conv`): LayerNorm `norm` →
/// `pointwise_conv1` [2w, w] → GLU → depthwise convolution along time per
/// frequency band (`depthwise_conv`, weight [w, K], bias [w]) → BatchNorm
/// `batch_norm` (batch statistics in training, running ones in inference) →
/// SiLU → `pointwise_conv2` [w, w]. The convolution kernels are in
/// `DepthwiseTimeConv`, BatchNorm's in `BatchNorm`.
public struct ConvModule: Sendable {
    public let norm: Norm
    public let pointwise1: Dense
    public let depthwiseWeight: Parameter, depthwiseBias: Parameter
    public let bnWeight: Parameter, bnBias: Parameter, runningMean: Parameter, runningVar: Parameter
    public let pointwise2: Dense
    let nt: Int, nf: Int, width: Int, kernel: Int

    public init(_ p: inout ParameterBuilder, _ c: ModelConfig) {
        nt = c.nt; nf = c.nf; width = c.width; kernel = c.conv_kernel
        let w = c.width
        norm = p.scope("norm") { Norm(&$0, width: w) }
        pointwise1 = p.scope("pointwise_conv1") { Dense(&$0, in: w, out: 2 * w) }
        (depthwiseWeight, depthwiseBias) = p.scope("depthwise_conv") {
            ($0.tensor("weight", [w, c.conv_kernel], .normal(0.02)), $0.tensor("bias", [w], .zeros))
        }
        (bnWeight, bnBias, runningMean, runningVar) = p.scope("batch_norm") {
            ($0.tensor("weight", [w], .ones), $0.tensor("bias", [w], .zeros),
             $0.tensor("running_mean", [w], .zeros), $0.tensor("running_var", [w], .ones))
        }
        pointwise2 = p.scope("pointwise_conv2") { Dense(&$0, in: w, out: w) }
    }

    /// The depthwise convolution of every (chunk, frequency band) pair.
    func convolve(_ pass: Pass, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>) {
        let w = pass.weights, n = nt * nf * width
        pass.workers.tasks(pass.batch * nf) { task, _ in
            let off = (task / nf) * n, band = task % nf
            DepthwiseTimeConv.forward(out + off, x + off, weight: w[depthwiseWeight], bias: w[depthwiseBias],
                                      sequences: 1, nt: nt, nf: nf, channels: width, kernel: kernel, bands: band..<(band + 1))
        }
    }

    /// dx += the convolution's input gradient, chunk by chunk; each chunk's
    /// weight and bias gradients are summed in chunk order.
    func convolveBackward(_ b: Backward, dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, x: UnsafePointer<Float>) {
        let n = nt * nf * width, kw = width * kernel, part = kw + width, mark = b.scratch.mark()
        defer { b.scratch.release(mark) }
        let partial = b.scratch.zeros(b.pass.batch * part)
        b.workers.tasks(b.pass.batch) { s, _ in
            DepthwiseTimeConv.backward(dx: dx + s * n, dweight: partial + s * part, dbias: partial + s * part + kw,
                                       dout: dout + s * n, x: x + s * n, weight: b.w[depthwiseWeight],
                                       sequences: 1, nt: nt, nf: nf, channels: width, kernel: kernel)
        }
        for s in 0..<b.pass.batch {
            Vector.add(b.grads[depthwiseWeight], partial + s * part, kw)
            Vector.add(b.grads[depthwiseBias], partial + s * part + kw, width)
        }
    }

    /// Training BatchNorm over all rows of the pass (statistics into `stats`).
    func batchNormTraining(_ pass: Pass, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, stats: RowStats) {
        let w = pass.weights
        BatchNorm.training(out, x, rows: pass.rows, channels: width, weight: w[bnWeight], bias: w[bnBias],
                           runningMean: pass.running.map { $0[runningMean] }, runningVariance: pass.running.map { $0[runningVar] },
                           mean: stats.mean, rstd: stats.rstd, across: pass.across)
    }

    /// Inference BatchNorm of one block of rows, in place.
    func batchNormInference(_ w: Weights, _ x: UnsafeMutablePointer<Float>, rows: Int) {
        BatchNorm.inference(x, rows: rows, channels: width, weight: w[bnWeight], bias: w[bnBias],
                            mean: w[runningMean], variance: w[runningVar])
    }

    func batchNormBackward(_ b: Backward, dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, x: UnsafePointer<Float>,
                           stats: RowStats) {
        BatchNorm.trainingBackward(dx: dx, dweight: b.grads[bnWeight], dbias: b.grads[bnBias], dout: dout, x: x, weight: b.w[bnWeight],
                                   mean: stats.mean, rstd: stats.rstd, rows: b.pass.rows, channels: width, across: b.pass.across)
    }
}
