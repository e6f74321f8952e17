/// Binary Spherical Quantization (docs/model.md, forward step 5), the bits ↔ token
/// packing, and the quantizer's backward: the straight-through estimator and
/// the normalization's gradient.
///     u = z / max(‖z‖₂, 1e-12),   q = (u > 0 ? 1 : −1) / √L
///     token = Σ_k [u_k > 0] · 2^(L−1−k)        (coordinate 0 is the most significant bit)
public enum BSQQuantizer {
    /// Normalizes `z` [rows, L] in place to `u` and returns the tokens.
    public static func quantize(_ z: UnsafeMutablePointer<Float>, rows: Int, bits L: Int, tokens: UnsafeMutablePointer<UInt64>) {
        for r in 0..<rows {
            let u = z + r * L
            var ss: Float = 0
            for k in 0..<L { ss += u[k] * u[k] }
            let inv = 1 / max(ss.squareRoot(), 1e-12)
            var t: UInt64 = 0
            for k in 0..<L {
                u[k] *= inv
                if u[k] > 0 { t |= 1 << UInt64(L - 1 - k) }
            }
            tokens[r] = t
        }
    }

    /// q [rows, L] rebuilt from tokens: +1/√L where the bit is set, −1/√L elsewhere.
    public static func codebookVectors(_ q: UnsafeMutablePointer<Float>, tokens: UnsafePointer<UInt64>, rows: Int, bits L: Int) {
        let a = 1 / Float(L).squareRoot()
        for r in 0..<rows {
            for k in 0..<L { q[r * L + k] = (tokens[r] >> UInt64(L - 1 - k)) & 1 == 1 ? a : -a }
        }
    }

    // MARK: training

    /// The straight-through estimator of BSQ-ViT: q_ste = (u + stopgrad(sign(u) − u))/√L,
    /// so ∂q/∂u = 1/√L: du += dq/√L.
    public static func straightThrough(du: UnsafeMutablePointer<Float>, dq: UnsafePointer<Float>, count: Int, bits L: Int) {
        let scale = 1 / Float(L).squareRoot()
        for i in 0..<count { du[i] += dq[i] * scale }
    }

    /// Back through u = z / max(‖z‖, 1e-12) for [n, L]: dz = (du − u·⟨u, du⟩)/‖z‖.
    public static func normalizeBackward(dz: UnsafeMutablePointer<Float>, du: UnsafePointer<Float>, z: UnsafePointer<Float>, tokens n: Int, bits L: Int) {
        for r in 0..<n {
            let zr = z + r * L, g = du + r * L, o = dz + r * L
            var ss = 0.0
            for k in 0..<L { ss += Double(zr[k]) * Double(zr[k]) }
            let norm = ss.squareRoot()
            if norm <= 1e-12 {
                for k in 0..<L { o[k] = Float(Double(g[k]) / 1e-12) }
                continue
            }
            var dot = 0.0
            for k in 0..<L { dot += Double(zr[k]) / norm * Double(g[k]) }
            for k in 0..<L { o[k] = Float((Double(g[k]) - Double(zr[k]) / norm * dot) / norm) }
        }
    }
}
