/// Binary Spherical Quantization (MODEL.md step 5) and the bits ↔ token packing.
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
}
