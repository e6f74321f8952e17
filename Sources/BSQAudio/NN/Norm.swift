/// A LayerNorm's parameters (weight 1, bias 0 at start) and its passes (kernels in `LayerNorm`).
public struct Norm: Sendable {
    public let weight: Parameter, bias: Parameter
    public let width: Int
    public let eps: Double

    public init(_ p: inout ParameterBuilder, width: Int, eps: Double = LayerNorm.eps) {
        self.width = width
        self.eps = eps
        weight = p.tensor("weight", [width], .ones)
        bias = p.tensor("bias", [width], .zeros)
    }

    /// One block of rows; `stats` (mean, rstd per row, for the backward) when training.
    @inline(__always)
    public func forward(_ w: Weights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int,
                        stats: RowStats? = nil, firstRow: Int = 0) {
        LayerNorm.forward(out, x, weight: w[weight], bias: w[bias], rows: rows, cols: width,
                          mean: stats.map { $0.mean + firstRow }, rstd: stats.map { $0.rstd + firstRow }, eps: eps)
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
