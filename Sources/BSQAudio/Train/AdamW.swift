import Foundation

/// AdamW exactly as PyTorch's `torch.optim.AdamW` (decoupled weight decay,
/// bias-corrected moments), over one flat parameter buffer with a
/// per-element decay mask; moments live in flat buffers of the same layout.
public struct AdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.99
    public var eps: Float = 1e-8
    public var weightDecay: Float = 1e-4
    /// Updates made so far (PyTorch's `state['step']`, restored on resume).
    public var step = 0
    public var m: [Float]
    public var v: [Float]

    public init(count: Int) {
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    /// One update of `params` with `grads` at learning rate `lr`; `decay[i]`
    /// says whether element i takes weight decay (matrices yes; biases, norms no).
    public mutating func update(_ params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, decay: [Bool], lr: Float) {
        step += 1
        let bc1 = 1 - powf(beta1, Float(step)), bc2 = (1 - powf(beta2, Float(step))).squareRoot()
        let stepSize = lr / bc1
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                for i in 0..<m.count {
                    if decay[i] { params[i] *= 1 - lr * weightDecay }
                    let g = grads[i]
                    m[i] = beta1 * m[i] + (1 - beta1) * g
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                    params[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2 + eps)
                }
            }
        }
    }

    /// Scales `grads` so that their global L2 norm is at most `maxNorm`
    /// (`torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
    @discardableResult
    public static func clip(_ grads: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Float {
        let norm = norm(grads, count: count)
        let coef = maxNorm / (norm + 1e-6)
        if coef < 1 { for i in 0..<count { grads[i] *= coef } }
        return norm
    }

    /// The global L2 norm of `grads`.
    public static func norm(_ grads: UnsafePointer<Float>, count: Int) -> Float {
        var ss = 0.0
        for i in 0..<count { ss += Double(grads[i]) * Double(grads[i]) }
        return Float(ss.squareRoot())
    }

    /// Linear warmup to `peak` over `warmup` steps, then a cosine to `floor` at `total`.
    public static func learningRate(step: Int, peak: Double, floor: Double, warmup: Int, total: Int) -> Double {
        if step < warmup { return peak * Double(step + 1) / Double(warmup) }
        let t = min(1, Double(step - warmup) / Double(max(1, total - warmup)))
        return floor + 0.5 * (peak - floor) * (1 + cos(Double.pi * t))
    }

    /// ema ← decay·ema + (1 − decay)·params.
    public static func updateEMA(_ ema: UnsafeMutablePointer<Float>, _ params: UnsafePointer<Float>, count: Int, decay: Float) {
        for i in 0..<count { ema[i] = decay * ema[i] + (1 - decay) * params[i] }
    }
}

extension AdamW {
    /// One optimizer step of a run: clip the gradients' global norm to `clip`
    /// (0: no clipping; `grads` scaled in place), AdamW at `lr`, then the EMA
    /// of the weights with `emaDecay`. Returns the norm before clipping.
    public mutating func step(_ params: inout [Float], ema: inout [Float], grads: UnsafeMutablePointer<Float>, decay: [Bool],
                              lr: Double, clip: Double, emaDecay: Double) -> Float {
        let count = params.count
        let norm = clip > 0 ? AdamW.clip(grads, count: count, maxNorm: Float(clip)) : AdamW.norm(grads, count: count)
        params.withUnsafeMutableBufferPointer { p in
            update(p.baseAddress!, grads: grads, decay: decay, lr: Float(lr))
            ema.withUnsafeMutableBufferPointer { AdamW.updateEMA($0.baseAddress!, p.baseAddress!, count: count, decay: Float(emaDecay)) }
        }
        return norm
    }

    /// The EMA and the moments as checkpoint tensors: `ema.*`,
    /// `optimizer.exp_avg.*`, `optimizer.exp_avg_sq.*` under the layout's keys.
    public func stateTensors(ema: [Float], layout: ParameterLayout) -> [(name: String, shape: [Int], values: [Float])] {
        var out: [(name: String, shape: [Int], values: [Float])] = []
        for (prefix, values) in [("ema.", ema), ("optimizer.exp_avg.", m), ("optimizer.exp_avg_sq.", v)] {
            for s in layout.slots { out.append((prefix + s.name, s.shape, Array(values[s.offset..<(s.offset + s.count)]))) }
        }
        return out
    }
}
