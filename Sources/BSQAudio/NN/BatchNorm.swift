/// BatchNorm over channels (last axis) with running statistics, eps 1e-5:
///     y = (x − running_mean) / √(running_var + eps) · weight + bias
public enum BatchNorm {
    public static let eps: Float = 1e-5

    public static func inference(_ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 mean: UnsafePointer<Float>, variance: UnsafePointer<Float>) {
        var scale = [Float](repeating: 0, count: channels)
        for c in 0..<channels { scale[c] = 1 / (variance[c] + eps).squareRoot() }
        for r in 0..<rows {
            let p = x + r * channels
            for c in 0..<channels { p[c] = (p[c] - mean[c]) * scale[c] * weight[c] + bias[c] }
        }
    }
}
