import Foundation

/// Elementwise nonlinearities, in place, with the exact definitions PyTorch uses.
public enum Activations {
    /// Exact GELU: x · ½(1 + erf(x/√2)).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * 0.707_106_781_186_547_5)) }
    }

    /// SiLU: x · σ(x).
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = v / (1 + expf(-v)) }
    }

    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = tanhf(x[i]) }
    }

    /// GLU over the last axis of [rows, 2·cols]: first half · σ(second half).
    public static func glu(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let a = x + r * 2 * cols, o = out + r * cols
            for i in 0..<cols { o[i] = a[i] / (1 + expf(-a[cols + i])) }
        }
    }

    /// Row-wise softmax in place.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let p = x + r * cols
            var m = -Float.infinity
            for i in 0..<cols { m = max(m, p[i]) }
            var s: Float = 0
            for i in 0..<cols { let e = expf(p[i] - m); p[i] = e; s += e }
            let inv = 1 / s
            for i in 0..<cols { p[i] *= inv }
        }
    }
}
