/// A fully connected layer, PyTorch's `nn.Linear` layout (weight [out, in]):
///     out[rows, out] = x[rows, in] · Wᵀ + b
/// The product is one sgemm.
public enum Linear {
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows: Int, inDim: Int, outDim: Int) {
        if let bias {
            for r in 0..<rows { (out + r * outDim).update(from: bias, count: outDim) }
        }
        BLAS.sgemm(transB: true, m: rows, n: outDim, k: inDim, a: x, b: weight, beta: bias == nil ? 0 : 1, c: out)
    }

    /// Accumulates the gradients of `forward`:
    ///     dx += dout · W,   dW += doutᵀ · x,   db += Σ_rows dout
    /// (`dx` may be nil when the input needs no gradient).
    public static func backward(dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inDim: Int, outDim: Int) {
        if let dx { BLAS.sgemm(m: rows, n: inDim, k: outDim, a: dout, b: weight, beta: 1, c: dx) }
        BLAS.sgemm(transA: true, m: outDim, n: inDim, k: rows, a: dout, b: x, beta: 1, c: dweight)
        if let dbias {
            for r in 0..<rows { Vector.add(dbias, dout + r * outDim, outDim) }
        }
    }
}
