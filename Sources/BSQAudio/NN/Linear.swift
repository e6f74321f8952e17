/// A fully connected layer's kernels, PyTorch's `nn.Linear` layout (weight [out, in]):
///     out[rows, out] = x[rows, in] · Wᵀ + b
/// Each product is one sgemm. The backward comes in two parts that a pass
/// spreads over its workers: the input gradient by blocks of rows, the
/// weight and bias gradients by slices of output rows over all rows.
public enum Linear {
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows: Int, inDim: Int, outDim: Int) {
        if let bias {
            for r in 0..<rows { (out + r * outDim).update(from: bias, count: outDim) }
        }
        BLAS.sgemm(transB: true, m: rows, n: outDim, k: inDim, a: x, b: weight, beta: bias == nil ? 0 : 1, c: out)
    }

    /// dx += dout · W for a block of `rows` rows.
    public static func backwardInput(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     rows: Int, inDim: Int, outDim: Int) {
        BLAS.sgemm(m: rows, n: inDim, k: outDim, a: dout, b: weight, beta: 1, c: dx)
    }

    /// dW[o, :] += Σ_rows dout[r, o]·x[r, :] and db[o] += Σ_rows dout[r, o] for
    /// the output rows `outputs` (`dweight`, `dbias` point at the whole tensors).
    public static func backwardWeights(dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                                       dout: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                       rows: Int, inDim: Int, outDim: Int, outputs: Range<Int>) {
        let o0 = outputs.lowerBound, m = outputs.count
        BLAS.sgemm(transA: true, m: m, n: inDim, k: rows, a: dout + o0, lda: outDim, b: x, beta: 1, c: dweight + o0 * inDim)
        if let dbias { for r in 0..<rows { Vector.add(dbias + o0, dout + r * outDim + o0, m) } }
    }

    /// Accumulates all the gradients of `forward` on one thread:
    ///     dx += dout · W,   dW += doutᵀ · x,   db += Σ_rows dout
    /// (`dx` may be nil when the input needs no gradient).
    public static func backward(dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inDim: Int, outDim: Int) {
        if let dx { backwardInput(dx: dx, dout: dout, weight: weight, rows: rows, inDim: inDim, outDim: outDim) }
        backwardWeights(dweight: dweight, dbias: dbias, dout: dout, x: x, rows: rows, inDim: inDim, outDim: outDim, outputs: 0..<outDim)
    }
}
