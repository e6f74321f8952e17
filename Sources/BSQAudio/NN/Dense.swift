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
                let r0 = t * bs, n = min(bs, R - r0)
                BLAS.sgemm(m: n, n: inDim, k: outDim, a: dout + r0 * outDim, b: W, beta: 1, c: dx! + r0 * inDim)
            } else {
                let o0 = (t - blocks) * ss, m = min(ss, outDim - o0)
                BLAS.sgemm(transA: true, m: m, n: inDim, k: R, a: dout + o0, lda: outDim, b: x, beta: 1, c: dW + o0 * inDim)
                if let db { for r in 0..<R { Vector.add(db + o0, dout + r * outDim + o0, m) } }
            }
        }
    }
}

/// A LayerNorm's parameters (weight 1, bias 0 at start) and its passes (kernels in `LayerNorm`).
public struct Norm: Sendable {
    public let weight: Parameter, bias: Parameter
    public let width: Int

    public init(_ p: inout ParameterBuilder, width: Int) {
        self.width = width
        weight = p.tensor("weight", [width], .ones)
        bias = p.tensor("bias", [width], .zeros)
    }

    /// One block of rows; `stats` (mean, rstd per row, for the backward) when training.
    @inline(__always)
    public func forward(_ w: Weights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int,
                        stats: RowStats? = nil, firstRow: Int = 0) {
        LayerNorm.forward(out, x, weight: w[weight], bias: w[bias], rows: rows, cols: width,
                          mean: stats.map { $0.mean + firstRow }, rstd: stats.map { $0.rstd + firstRow })
    }

    /// Every row block of a pass.
    public func forward(_ w: Weights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, stats: RowStats?,
                        on workers: Workers) {
        workers.rowBlocks { r0, n in forward(w, out + r0 * width, x + r0 * width, rows: n, stats: stats, firstRow: r0) }
    }

    /// dx += by row blocks; each block's dweight and dbias (in `scratch`,
    /// 2·width per block) are summed into the gradients in block order.
    public func backward(_ w: Weights, _ g: ParameterBuffer, dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                         x: UnsafePointer<Float>, stats: RowStats, scratch: Arena, on workers: Workers) {
        let cols = width, blocks = workers.blockCount, mark = scratch.mark()
        defer { scratch.release(mark) }
        let partial = scratch.zeros(blocks * 2 * cols)
        workers.rowBlocks { r0, n in
            let part = partial + r0 / workers.blockRows * 2 * cols
            LayerNorm.backward(dx: dx + r0 * cols, dweight: part, dbias: part + cols, dout: dout + r0 * cols, x: x + r0 * cols,
                               weight: w[weight], mean: stats.mean + r0, rstd: stats.rstd + r0, rows: n, cols: cols)
        }
        for b in 0..<blocks {
            Vector.add(g[weight], partial + b * 2 * cols, cols)
            Vector.add(g[bias], partial + b * 2 * cols + cols, cols)
        }
    }
}

/// Per-row (LayerNorm) or per-channel (BatchNorm) statistics a backward needs.
public struct RowStats {
    public let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    public init(_ arena: Arena, count: Int) {
        mean = arena.allocate(count)
        rstd = arena.allocate(count)
    }
}
