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
}
