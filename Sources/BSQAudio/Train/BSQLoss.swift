import Foundation

/// The training loss of MODEL.md, term by term, with its gradients:
///
///     loss = L1(clamp(y, −1, 1), x) + λ_q(step) · L_q
///     L_q  = β·commit + ζ·(γ0·H_ps − γ·H_cb) / inv_temp
///     commit = mean_n Σ_k (stopgrad(q_{n,k}) − u_{n,k})²,   q = sign(u)/√L (0 → −1)
///
/// H_ps and H_cb are the per-sample and codebook entropies, either over groups
/// of G bits ("group": softmax over the 2^G codebook entries) or per bit
/// ("analytical"). H(p) = −Σ p·ln(p + 1e-8).
public struct BSQLoss: Sendable {
    public var bits: Int
    public var groupSize: Int
    public var analytical: Bool
    public var beta = 0.25
    public var gamma0 = 1.0
    public var gamma = 1.0
    public var zeta = 1.0
    public var invTemp = 1.0
    public var lambda = 0.1
    public var rampSteps = 2000
    public var rampMultiplier = 3.0

    public init(bits: Int, groupSize: Int, analytical: Bool) {
        self.bits = bits
        self.groupSize = groupSize
        self.analytical = analytical
    }

    public init(_ c: ModelConfig) {
        self.init(bits: c.embed_dim, groupSize: c.group_size, analytical: c.persample_entropy == "analytical")
    }

    /// λ_q(step) = λ·(r + m·(1 − r)), r = min(step, ramp)/ramp.
    public func lambdaQ(step: Int) -> Double {
        let r = Double(min(step, rampSteps)) / Double(max(rampSteps, 1))
        return lambda * (r + rampMultiplier * (1 - r))
    }

    public struct QuantizerTerms: Sendable {
        public var commit = 0.0, hPerSample = 0.0, hCodebook = 0.0, lq = 0.0
    }

    /// L_q and its terms for u [n, L]; `du` (optional) receives ∂L_q/∂u.
    public func quantizer(_ u: UnsafePointer<Float>, tokens n: Int, du: UnsafeMutablePointer<Float>?) -> QuantizerTerms {
        let L = bits, a = 1 / Double(L).squareRoot()
        var t = QuantizerTerms()
        var g = [Double](repeating: 0, count: n * L)      // ∂L_q/∂u in double
        // commitment: (q − u)² with q a constant
        for i in 0..<(n * L) {
            let q = u[i] > 0 ? a : -a, d = q - Double(u[i])
            t.commit += d * d
            g[i] += beta * -2 * d / Double(n)
        }
        t.commit /= Double(n)
        let ent = zeta / invTemp
        if analytical {
            // p = σ(−4·u·τ/√L) per bit
            let k = -4 * invTemp * a
            var pMean = [Double](repeating: 0, count: L)
            var p = [Double](repeating: 0, count: n * L)
            for i in 0..<(n * L) { p[i] = 1 / (1 + exp(-k * Double(u[i]))); pMean[i % L] += p[i] / Double(n) }
            for i in 0..<(n * L) {
                let (h, dh) = BSQLoss.binaryEntropy(p[i])
                t.hPerSample += h / Double(n)
                let (_, dhc) = BSQLoss.binaryEntropy(pMean[i % L])
                let dp = ent * (gamma0 * dh / Double(n) - gamma * dhc / Double(n))
                g[i] += dp * p[i] * (1 - p[i]) * k
            }
            for j in 0..<L { t.hCodebook += BSQLoss.binaryEntropy(pMean[j]).0 }
        } else {
            let G = groupSize, groups = L / G, C = 1 << G
            var prob = [Double](repeating: 0, count: n * groups * C)
            var mean = [Double](repeating: 0, count: groups * C)
            for r in 0..<n {
                for gi in 0..<groups {
                    let base = (r * groups + gi) * C, ub = r * L + gi * G
                    var top = -Double.infinity
                    for c in 0..<C {
                        var s = 0.0
                        for j in 0..<G { s += Double(u[ub + j]) * ((c >> (G - 1 - j)) & 1 == 1 ? a : -a) }
                        prob[base + c] = 2 * invTemp * s
                        top = max(top, prob[base + c])
                    }
                    var z = 0.0
                    for c in 0..<C { prob[base + c] = exp(prob[base + c] - top); z += prob[base + c] }
                    for c in 0..<C { prob[base + c] /= z; mean[gi * C + c] += prob[base + c] / Double(n) }
                }
            }
            for i in 0..<(groups * C) { t.hCodebook -= mean[i] * log(mean[i] + 1e-8) }
            for r in 0..<n {
                for gi in 0..<groups {
                    let base = (r * groups + gi) * C, ub = r * L + gi * G
                    // ∂/∂prob of ent·(γ0·H_ps − γ·H_cb), then through the softmax of logits 2τ⟨u, C_c⟩
                    var dlogit = [Double](repeating: 0, count: C)
                    var dot = 0.0
                    for c in 0..<C {
                        let p = prob[base + c], m = mean[gi * C + c]
                        t.hPerSample -= p * log(p + 1e-8) / Double(n)
                        let dhp = -(log(p + 1e-8) + p / (p + 1e-8))
                        let dhm = -(log(m + 1e-8) + m / (m + 1e-8))
                        dlogit[c] = ent * (gamma0 * dhp - gamma * dhm) / Double(n)
                        dot += dlogit[c] * p
                    }
                    for c in 0..<C { dlogit[c] = prob[base + c] * (dlogit[c] - dot) }
                    for j in 0..<G {
                        var s = 0.0
                        for c in 0..<C { s += dlogit[c] * ((c >> (G - 1 - j)) & 1 == 1 ? a : -a) }
                        g[ub + j] += 2 * invTemp * s
                    }
                }
            }
        }
        t.lq = beta * t.commit + ent * (gamma0 * t.hPerSample - gamma * t.hCodebook)
        if let du { for i in 0..<(n * L) { du[i] = Float(g[i]) } }
        return t
    }

    /// H([p, 1 − p]) and its derivative in p.
    static func binaryEntropy(_ p: Double) -> (Double, Double) {
        let q = 1 - p
        let h = -(p * log(p + 1e-8) + q * log(q + 1e-8))
        let d = -(log(p + 1e-8) + p / (p + 1e-8)) + (log(q + 1e-8) + q / (q + 1e-8))
        return (h, d)
    }

    /// mean |clamp(y, −1, 1) − x| and (optional) its gradient in y (0 outside [−1, 1]).
    public static func l1(_ y: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, dy: UnsafeMutablePointer<Float>?) -> Double {
        var s = 0.0
        let inv = 1 / Float(count)
        for i in 0..<count {
            let c = min(max(y[i], -1), 1), d = c - x[i]
            s += Double(abs(d))
            if let dy { dy[i] = (y[i] < -1 || y[i] > 1 || d == 0) ? 0 : (d > 0 ? inv : -inv) }
        }
        return s / Double(count)
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
