/// The pieces a training step is made of, spread over `threads` workers with
/// OpenBLAS on one thread: blocks of 256 token rows for the per-token layers,
/// slices of 64 weight rows for dW and db, (sequence, head) pairs for
/// attention, sequences for the convolution. Partial sums are added in block
/// order, so the result does not depend on the thread count.
extension TrainingStep {
    static let blockRows = 256, sliceRows = 64

    /// Runs `body(firstRow, rowCount)` for every block of 256 rows of the batch.
    func rowBlocks(_ body: (Int, Int) -> Void) {
        let n = (rows + TrainingStep.blockRows - 1) / TrainingStep.blockRows
        Parallel.forEach(n, threads: threads) { i, _ in
            let r0 = i * TrainingStep.blockRows
            body(r0, min(TrainingStep.blockRows, rows - r0))
        }
    }

    /// An elementwise layer over row-major arrays, block by block: `body(out,
    /// count, a, b)` gets the block's pointers into `out` ([rows, cols], `count`
    /// values) and the inputs `a` ([rows, aCols]) and `b` ([rows, bCols]).
    func elementwise(_ out: UnsafeMutablePointer<Float>, _ cols: Int,
                             _ a: UnsafePointer<Float>? = nil, _ aCols: Int = 0, _ b: UnsafePointer<Float>? = nil, _ bCols: Int = 0,
                             _ body: (UnsafeMutablePointer<Float>, Int, UnsafePointer<Float>, UnsafePointer<Float>) -> Void) {
        rowBlocks { r0, n in
            body(out + r0 * cols, n * cols, (a ?? UnsafePointer(out)) + r0 * aCols, (b ?? UnsafePointer(out)) + r0 * bCols)
        }
    }

    func addRows(_ h: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ cols: Int) {
        rowBlocks { r0, n in Vector.add(h + r0 * cols, x + r0 * cols, n * cols) }
    }

    func linear(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                        _ bias: UnsafePointer<Float>?, _ inDim: Int, _ outDim: Int) {
        rowBlocks { r0, n in
            Linear.forward(out + r0 * outDim, x + r0 * inDim, weight: weight, bias: bias, rows: n, inDim: inDim, outDim: outDim)
        }
    }

    /// Linear's backward: dx by row blocks, dW and db by slices of 64 weight rows over the whole batch.
    func linearBackward(dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ inDim: Int, _ outDim: Int) {
        let R = rows, bs = TrainingStep.blockRows, ss = TrainingStep.sliceRows
        let blocks = dx == nil ? 0 : (R + bs - 1) / bs, slices = (outDim + ss - 1) / ss
        Parallel.forEach(blocks + slices, threads: threads) { t, _ in
            if t < blocks {
                let r0 = t * bs, n = min(bs, R - r0)
                BLAS.sgemm(m: n, n: inDim, k: outDim, a: dout + r0 * outDim, b: weight, beta: 1, c: dx! + r0 * inDim)
            } else {
                let o0 = (t - blocks) * ss, m = min(ss, outDim - o0)
                BLAS.sgemm(transA: true, m: m, n: inDim, k: R, a: dout + o0, lda: outDim, b: x, beta: 1, c: dweight + o0 * inDim)
                if let dbias { for r in 0..<R { Vector.add(dbias + o0, dout + r * outDim + o0, m) } }
            }
        }
    }

    func layerNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>, _ stats: inout ([Float], [Float])) {
        let w = config.width
        stats.0.withUnsafeMutableBufferPointer { mean in
            stats.1.withUnsafeMutableBufferPointer { rstd in
                let m = mean.baseAddress!, r = rstd.baseAddress!
                rowBlocks { r0, n in
                    LayerNorm.forward(out + r0 * w, x + r0 * w, weight: weight, bias: bias, rows: n, cols: w, mean: m + r0, rstd: r + r0)
                }
            }
        }
    }

    /// LayerNorm's backward by row blocks; each block's dweight and dbias are summed in block order.
    func layerNormBackward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                   dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                   _ stats: ([Float], [Float])) {
        let w = config.width, blocks = (rows + TrainingStep.blockRows - 1) / TrainingStep.blockRows
        var partial = [Float](repeating: 0, count: blocks * 2 * w)
        partial.withUnsafeMutableBufferPointer { pb in
            let p = pb.baseAddress!
            stats.0.withUnsafeBufferPointer { mean in
                stats.1.withUnsafeBufferPointer { rstd in
                    rowBlocks { r0, n in
                        let part = p + r0 / TrainingStep.blockRows * 2 * w
                        LayerNorm.backward(dx: dx + r0 * w, dweight: part, dbias: part + w, dout: dout + r0 * w, x: x + r0 * w,
                                           weight: weight, mean: mean.baseAddress! + r0, rstd: rstd.baseAddress! + r0, rows: n, cols: w)
                    }
                }
            }
            for b in 0..<blocks {
                Vector.add(dweight, p + b * 2 * w, w)
                Vector.add(dbias, p + b * 2 * w + w, w)
            }
        }
    }

    /// Attention of every (sequence, head) pair; the probabilities are kept for the backward.
    func attention(_ out: UnsafeMutablePointer<Float>, _ qkv: UnsafePointer<Float>, _ probs: UnsafeMutablePointer<Float>) {
        let c = config, N = c.tokens
        Parallel.forEach(batch * c.heads, threads: threads) { t, _ in
            Attention.forward(out, qkv: qkv, scores: probs + t * N * N, sequence: t / c.heads, head: t % c.heads,
                              tokens: N, width: c.width, heads: c.heads)
        }
    }

    func attentionBackward(_ dqkv: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ qkv: UnsafePointer<Float>,
                                   _ probs: UnsafePointer<Float>) {
        let c = config, N = c.tokens
        var scratch = [Float](repeating: 0, count: threads * N * N)
        scratch.withUnsafeMutableBufferPointer { sb in
            Parallel.forEach(batch * c.heads, threads: threads) { t, worker in
                Attention.backward(dqkv: dqkv, dout: dout, qkv: qkv, probabilities: probs + t * N * N, scratch: sb.baseAddress! + worker * N * N,
                                   sequence: t / c.heads, head: t % c.heads, tokens: N, width: c.width, heads: c.heads)
            }
        }
    }

    /// The depthwise time convolution, sequence by sequence.
    func convolution(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                             _ bias: UnsafePointer<Float>) {
        let c = config, n = c.tokens * c.width
        Parallel.forEach(batch, threads: threads) { s, _ in
            DepthwiseTimeConv.forward(out + s * n, x + s * n, weight: weight, bias: bias, sequences: 1, nt: c.nt, nf: c.nf,
                                      channels: c.width, kernel: c.conv_kernel)
        }
    }

    /// The convolution's backward, sequence by sequence; each sequence's dweight and dbias are summed in order.
    func convolutionBackward(dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                     dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>) {
        let c = config, n = c.tokens * c.width, kw = c.width * c.conv_kernel, part = kw + c.width
        var partial = [Float](repeating: 0, count: batch * part)
        partial.withUnsafeMutableBufferPointer { pb in
            let p = pb.baseAddress!
            Parallel.forEach(batch, threads: threads) { s, _ in
                DepthwiseTimeConv.backward(dx: dx + s * n, dweight: p + s * part, dbias: p + s * part + kw, dout: dout + s * n, x: x + s * n,
                                           weight: weight, sequences: 1, nt: c.nt, nf: c.nf, channels: c.width, kernel: c.conv_kernel)
            }
            for s in 0..<batch {
                Vector.add(dweight, p + s * part, kw)
                Vector.add(dbias, p + s * part + kw, c.width)
            }
        }
    }
}
