import Foundation

/// Multi-head self-attention over `tokens` positions of each sequence, from
/// packed projections `qkv` [rows, 3w] (q, then k, then v; head h is columns
/// h·d ..< (h+1)·d of each):
///     out_h = softmax(q_h · k_hᵀ / √d) · v_h,   heads concatenated into [rows, w]
/// Both products are sgemms on strided views; `scores` holds one [tokens, tokens] matrix.
public enum Attention {
    /// Attention of one head of one sequence; writes its d columns of `out`.
    public static func forward(_ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                               scores: UnsafeMutablePointer<Float>,
                               sequence s: Int, head h: Int, tokens n: Int, width w: Int, heads: Int,
                               probabilities: UnsafeMutablePointer<Float>? = nil) {
        let d = w / heads
        let scale = 1 / Float(d).squareRoot()
        let q = qkv + s * n * 3 * w + h * d
        BLAS.sgemm(transB: true, m: n, n: n, k: d, alpha: scale, a: q, lda: 3 * w, b: q + w, ldb: 3 * w, c: scores)
        Activations.softmax(scores, rows: n, cols: n)
        probabilities?.update(from: scores, count: n * n)
        BLAS.sgemm(m: n, n: d, k: n, a: scores, b: q + 2 * w, ldb: 3 * w, c: out + s * n * w + h * d, ldc: w)
    }

    /// Accumulates dqkv for one head of one sequence, from dout [rows, w] and
    /// the forward's probabilities P [n, n]:
    ///     dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
    ///     dQ = dS·K/√d,  dK = dSᵀ·Q/√d
    /// `scratch` holds one [n, n] matrix.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                probabilities p: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                sequence s: Int, head h: Int, tokens n: Int, width w: Int, heads: Int) {
        let d = w / heads
        let scale = 1 / Float(d).squareRoot()
        let q = qkv + s * n * 3 * w + h * d, dq = dqkv + s * n * 3 * w + h * d
        let dO = dout + s * n * w + h * d
        BLAS.sgemm(transA: true, m: n, n: d, k: n, a: p, b: dO, ldb: w, beta: 1, c: dq + 2 * w, ldc: 3 * w)
        BLAS.sgemm(transB: true, m: n, n: n, k: d, a: dO, lda: w, b: q + 2 * w, ldb: 3 * w, c: scratch)
        Activations.softmaxBackward(scratch, p: p, rows: n, cols: n)
        BLAS.sgemm(m: n, n: d, k: n, alpha: scale, a: scratch, b: q + w, ldb: 3 * w, beta: 1, c: dq, ldc: 3 * w)
        BLAS.sgemm(transA: true, m: n, n: d, k: n, alpha: scale, a: scratch, b: q, ldb: 3 * w, beta: 1, c: dq + w, ldc: 3 * w)
    }
}
