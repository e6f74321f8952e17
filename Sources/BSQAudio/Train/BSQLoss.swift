import Foundation

/// The training loss of docs/model.md, term by term, with its gradients:
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
    /// Workers for the group entropies.
    public var threads = 1
    /// Groups of more bits than this take the factored path (`factoredGroupEntropies`).
    public var factorAbove = 12
    /// The processes whose tokens together make the batch (data-parallel
    /// training): means are over all their tokens, the codebook mean too, and
    /// the gradients are each process's part of the whole batch's (nil: this one's).
    public var across: Collective?

    public init(bits: Int, groupSize: Int, analytical: Bool) {
        self.bits = bits
        self.groupSize = groupSize
        self.analytical = analytical
    }

    public init(_ c: ModelConfig) {
        self.init(bits: c.embed_dim, groupSize: c.group_size, analytical: c.persample_entropy == "analytical")
    }

    /// λ_q(step) = λ·(r + m·(1 − r)), r = min(step, ramp)/ramp (1 without a ramp).
    public func lambdaQ(step: Int) -> Double {
        let r = rampSteps == 0 ? 1 : Double(min(step, rampSteps)) / Double(rampSteps)
        return lambda * (r + rampMultiplier * (1 - r))
    }

    public struct QuantizerTerms: Sendable {
        public var commit = 0.0, hPerSample = 0.0, hCodebook = 0.0, lq = 0.0
    }

    /// L_q and its terms for u [n, L]; `du` (optional) receives ∂L_q/∂u.
    /// With `across`, n is this process's share of the tokens.
    public func quantizer(_ u: UnsafePointer<Float>, tokens n: Int, du: UnsafeMutablePointer<Float>?) -> QuantizerTerms {
        let L = bits, a = 1 / Double(L).squareRoot()
        let N = across.map { Int($0.sum(Double(n))) } ?? n      // tokens of the whole batch
        var t = QuantizerTerms()
        var g = [Double](repeating: 0, count: n * L)      // ∂L_q/∂u in double
        // commitment: (q − u)² with q a constant
        for i in 0..<(n * L) {
            let q = u[i] > 0 ? a : -a, d = q - Double(u[i])
            t.commit += d * d
            g[i] += beta * -2 * d / Double(N)
        }
        let ent = zeta / invTemp
        if analytical {
            // p = σ(−4·u·τ/√L) per bit
            let k = -4 * invTemp * a
            var pMean = [Double](repeating: 0, count: L)
            var p = [Double](repeating: 0, count: n * L)
            for i in 0..<(n * L) { p[i] = 1 / (1 + exp(-k * Double(u[i]))); pMean[i % L] += p[i] / Double(N) }
            if let across { pMean = across.sum(pMean) }
            for i in 0..<(n * L) {
                let (h, dh) = BSQLoss.binaryEntropy(p[i])
                t.hPerSample += h / Double(N)
                let (_, dhc) = BSQLoss.binaryEntropy(pMean[i % L])
                let dp = ent * (gamma0 * dh / Double(N) - gamma * dhc / Double(N))
                g[i] += dp * p[i] * (1 - p[i]) * k
            }
            for j in 0..<L { t.hCodebook += BSQLoss.binaryEntropy(pMean[j]).0 }
        } else {
            let r = groupEntropies(u, tokens: n, total: N, scale: ent)
            t.hPerSample = r.hPerSample
            t.hCodebook = r.hCodebook
            for i in 0..<(n * L) { g[i] += r.grad[i] }
        }
        if let across, across.size > 1 {
            let sums = across.sum([t.commit, t.hPerSample])
            t.commit = sums[0]; t.hPerSample = sums[1]
        }
        t.commit /= Double(N)
        t.lq = beta * t.commit + ent * (gamma0 * t.hPerSample - gamma * t.hCodebook)
        if let du { for i in 0..<(n * L) { du[i] = Float(g[i]) } }
        return t
    }

    /// Tokens per block of the group entropies' work (fixed, so that the sums
    /// do not depend on the thread count).
    static let entropyBlock = 256

    /// The "group" entropies and ent·(γ0·∂H_ps − γ·∂H_cb)/∂u, in two passes over
    /// blocks of tokens on `threads` workers: the softmax over the 2^G codebook
    /// entries of each group (and the block's share of the mean), then, with the
    /// mean known, each token's gradient back through the softmax. Groups above
    /// `factorAbove` bits take `factoredGroupEntropies`. Of the N tokens of
    /// the whole batch this process holds n; H_ps is its share of the mean.
    func groupEntropies(_ u: UnsafePointer<Float>, tokens n: Int, total N: Int, scale ent: Double)
        -> (hPerSample: Double, hCodebook: Double, grad: [Double]) {
        if groupSize > factorAbove && groupSize >= 6 { return factoredGroupEntropies(u, tokens: n, total: N, scale: ent) }
        let L = bits, G = groupSize, groups = L / G, C = 1 << G
        let s = 2 * invTemp / Double(L).squareRoot()   // logits 2τ⟨u, C_c⟩ with C_c = ±1/√L
        let blockSize = BSQLoss.entropyBlock, blocks = (n + blockSize - 1) / blockSize
        var prob = [Double](repeating: 0, count: n * groups * C)
        var partialMean = [Double](repeating: 0, count: blocks * groups * C)
        var partialH = [Double](repeating: 0, count: blocks)
        var grad = [Double](repeating: 0, count: n * L)
        prob.withUnsafeMutableBufferPointer { pb in
            partialMean.withUnsafeMutableBufferPointer { mb in
                let pr = pb.baseAddress!, pm = mb.baseAddress!
                Parallel.forEach(blocks, threads: threads) { b, _ in
                    for r in (b * blockSize)..<min(n, (b + 1) * blockSize) {
                        for gi in 0..<groups {
                            let p = pr + (r * groups + gi) * C, m = pm + (b * groups + gi) * C
                            BSQLoss.groupSoftmax(u + r * L + gi * G, bits: G, scale: s, into: p)
                            for c in 0..<C { m[c] += p[c] / Double(N) }
                        }
                    }
                }
            }
        }
        let (hCodebook, dhm) = BSQLoss.codebookEntropy(partialMean, blocks: blocks, across: across)
        prob.withUnsafeBufferPointer { pb in
            grad.withUnsafeMutableBufferPointer { gb in
                partialH.withUnsafeMutableBufferPointer { hb in
                    let pr = pb.baseAddress!, gr = gb.baseAddress!
                    Parallel.forEach(blocks, threads: threads) { b, _ in
                        var dprob = [Double](repeating: 0, count: C)
                        var h = 0.0
                        let perToken = ent / Double(N)
                        for r in (b * blockSize)..<min(n, (b + 1) * blockSize) {
                            for gi in 0..<groups {
                                let p = pr + (r * groups + gi) * C
                                // ∂/∂prob of ent·(γ0·H_ps − γ·H_cb), then back through the softmax
                                for c in 0..<C {
                                    let lp = log(p[c] + 1e-8)
                                    h -= p[c] * lp
                                    let dhp = -(lp + p[c] / (p[c] + 1e-8))
                                    dprob[c] = perToken * (gamma0 * dhp - gamma * dhm[gi * C + c])
                                }
                                BSQLoss.groupSoftmaxBackward(p, dprob, bits: G, scale: s, into: gr + r * L + gi * G)
                            }
                        }
                        hb[b] = h
                    }
                }
            }
        }
        return (partialH.reduce(0, +) / Double(N), hCodebook, grad)
    }

    /// The codebook mean (the blocks' shares of it, `partial`, added in block
    /// order, then over the processes `across`), H_cb = −Σ m·ln(m + ε) and
    /// ∂H_cb/∂m = −(ln(m + ε) + m/(m + ε)).
    static func codebookEntropy(_ partial: [Double], blocks: Int, across: Collective? = nil) -> (h: Double, dh: [Double]) {
        let size = partial.count / max(blocks, 1)
        var mean = [Double](repeating: 0, count: size)
        for b in 0..<blocks { for i in 0..<size { mean[i] += partial[b * size + i] } }
        if let across { mean = across.sum(mean) }
        var h = 0.0
        for m in mean { h -= m * log(m + 1e-8) }
        return (h, mean.map { -(log($0 + 1e-8) + $0 / ($0 + 1e-8)) })
    }

    /// p[c] = softmax_c(s·Σ_j u[j]·(±1)) over the 2^bits entries of a group, bit
    /// j of c (most significant first) choosing the sign of coordinate j.
    /// The sums are built bit by bit in place (after j bits, entry k holds the
    /// sum over the leading bits k), C additions where a sum per entry takes
    /// C·bits, and in the same order: the same values.
    static func groupSoftmax(_ u: UnsafePointer<Float>, bits: Int, scale s: Double, into p: UnsafeMutablePointer<Double>) {
        let C = 1 << bits
        p[0] = 0
        for j in 0..<bits {
            let uj = Double(u[j])
            for k in stride(from: (1 << j) - 1, through: 0, by: -1) {   // from the top: entries above k are read already
                let t = p[k]
                p[2 * k] = t - uj
                p[2 * k + 1] = t + uj
            }
        }
        var top = -Double.infinity
        for c in 0..<C {
            p[c] *= s
            top = max(top, p[c])
        }
        var z = 0.0
        for c in 0..<C { p[c] = exp(p[c] - top); z += p[c] }
        for c in 0..<C { p[c] /= z }
    }

    /// Adds to o[j] the gradient in u[j] of a loss whose gradient in the
    /// softmax `p` of `groupSoftmax` is `g`: o[j] += Σ_c ±d[c] (+ where bit j
    /// of c is set), d = s·p ⊙ (g − ⟨g, p⟩), reduced pairwise from the last
    /// bit to the first (2C additions instead of C·bits).
    static func groupSoftmaxBackward(_ p: UnsafePointer<Double>, _ g: UnsafePointer<Double>, bits: Int, scale s: Double,
                                     into o: UnsafeMutablePointer<Double>) {
        let C = 1 << bits
        var dot = 0.0
        for c in 0..<C { dot += g[c] * p[c] }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: C) { buf in
            let d = buf.baseAddress!
            for c in 0..<C { d[c] = s * p[c] * (g[c] - dot) }
            var n = C
            for j in stride(from: bits - 1, through: 0, by: -1) {
                n /= 2
                var diff = 0.0
                for k in 0..<n {
                    let lo = d[2 * k], hi = d[2 * k + 1]
                    diff += hi - lo
                    d[k] = lo + hi
                }
                o[j] += diff
            }
        }
    }

    /// H([p, 1 − p]) and its derivative in p.
    static func binaryEntropy(_ p: Double) -> (Double, Double) {
        let q = 1 - p
        let h = -(p * log(p + 1e-8) + q * log(q + 1e-8))
        let d = -(log(p + 1e-8) + p / (p + 1e-8)) + (log(q + 1e-8) + q / (q + 1e-8))
        return (h, d)
    }

    /// The L1 over the rows [rows, cols] (patches) where `mask` is set, as
    /// masked pre-training's `mask_loss masked` takes it; dy is 0 on the other rows.
    /// With `across`, over the masked rows of all its processes.
    public static func l1(_ y: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int, mask: UnsafePointer<Bool>,
                          dy: UnsafeMutablePointer<Float>, across: Collective? = nil) -> Double {
        var n = (0..<rows).reduce(0) { $0 + (mask[$1] ? cols : 0) }
        if let across { n = Int(across.sum(Double(n))) }
        guard n > 0 else { dy.initialize(repeating: 0, count: rows * cols); return 0 }
        var s = 0.0
        let inv = 1 / Float(n)
        for r in 0..<rows {
            let o = r * cols
            guard mask[r] else { (dy + o).initialize(repeating: 0, count: cols); continue }
            for i in o..<(o + cols) {
                let c = min(max(y[i], -1), 1), d = c - x[i]
                s += Double(abs(d))
                dy[i] = (y[i] < -1 || y[i] > 1 || d == 0) ? 0 : (d > 0 ? inv : -inv)
            }
        }
        if let across { s = across.sum(s) }
        return s / Double(n)
    }

    /// mean |clamp(y, −1, 1) − x| and (optional) its gradient in y (0 outside [−1, 1]);
    /// with `across`, the mean over the values of all its processes.
    public static func l1(_ y: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, dy: UnsafeMutablePointer<Float>?,
                          across: Collective? = nil) -> Double {
        var s = 0.0
        let total = across.map { Int($0.sum(Double(count))) } ?? count
        let inv = 1 / Float(total)
        for i in 0..<count {
            let c = min(max(y[i], -1), 1), d = c - x[i]
            s += Double(abs(d))
            if let dy { dy[i] = (y[i] < -1 || y[i] > 1 || d == 0) ? 0 : (d > 0 ? inv : -inv) }
        }
        if let across { s = across.sum(s) }
        return s / Double(total)
    }
}
