/// A fully connected layer's parameters (PyTorch's `nn.Linear`: weight
/// [out, in], optional bias [out]) and its forward and backward over row
/// blocks and weight slices (kernels in `Linear`):
///     forward:  out = x · Wᵀ + b
///     backward: dx += dout · W,   dW += doutᵀ · x,   db += Σ_rows dout
public struct Dense: Sendable {
    public let weight: Parameter
    public let bias: Parameter?
    public let inDim: Int, outDim: Int

    /// `weight` and `bias` under the current scope, weights N(0, 0.02), bias 0.
    public init(_ p: inout ParameterBuilder, in inDim: Int, out outDim: Int, bias: Bool = true,
                weightName: String = "weight", biasName: String = "bias") {
        self.inDim = inDim
        self.outDim = outDim
        weight = p.tensor(weightName, [outDim, inDim], .normal(0.02))
        self.bias = bias ? p.tensor(biasName, [outDim], .zeros) : nil
    }

    /// One block of rows.
    @inline(__always)
    public func forward(_ w: Weights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int) {
        Linear.forward(out, x, weight: w[weight], bias: bias.map { w[$0] }, rows: rows, inDim: inDim, outDim: outDim)
    }

    /// Every row block of a pass.
    public func forward(_ w: Weights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, on workers: Workers) {
        workers.rowBlocks { r0, n in forward(w, out + r0 * outDim, x + r0 * inDim, rows: n) }
    }

    /// The whole backward on `workers`: dx (when wanted) by row blocks, dW and
    /// db by slices of `Workers.sliceRows` weight rows over all rows, all as one set of tasks.
    public func backward(_ w: Weights, _ g: ParameterBuffer, dx: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                         x: UnsafePointer<Float>, on workers: Workers) {
        let R = workers.rows, bs = workers.blockRows, ss = Workers.sliceRows
        let blocks = dx == nil ? 0 : workers.blockCount, slices = (outDim + ss - 1) / ss
        let W = w[weight], dW = g[weight], db = bias.map { g[$0] }
        workers.tasks(blocks + slices) { t, _ in
            if t < blocks {
                let r0 = t * bs
                Linear.backwardInput(dx: dx! + r0 * inDim, dout: dout + r0 * outDim, weight: W, rows: min(bs, R - r0), inDim: inDim, outDim: outDim)
            } else {
                let o0 = (t - blocks) * ss
                Linear.backwardWeights(dweight: dW, dbias: db, dout: dout, x: x, rows: R, inDim: inDim, outDim: outDim,
                                       outputs: o0..<min(o0 + ss, outDim))
            }
        }
    }
}
