import Foundation

/// The "group" entropies for groups too large to hold a softmax over all 2^G
/// codebook entries per token (G = 18: the whole 18-bit code as one group).
///
/// The logits 2τ⟨u_g, C_c⟩ are a sum over the group's coordinates, so with the
/// entry c = (c₁, c₂) split into its G₁ = ⌊G/2⌋ high and G₂ = G − G₁ low bits
/// the softmax is the outer product of two small ones:
///
///     prob[n, c] = a[n, c₁] · b[n, c₂]
///
/// (a: softmax over 2^G₁ entries of the first G₁ coordinates, b of the rest).
/// Nothing else is approximated:
/// - the codebook mean is Σ_n a[n]ᵀ·b[n] / N, a 2^G₁ × 2^G₂ matrix product,
///   and H_cb = −Σ m·ln(m + ε) over all of its 2^G entries; ∂H_cb/∂prob = D
///   (the same for every token), so ∂H_cb/∂a[n] = D·b[n] / N, ∂H_cb/∂b[n] = Dᵀ·a[n] / N;
/// - the per-sample entropy −Σ_{c₁,c₂} a·b·ln(a·b + ε) is summed over all 2^G
///   pairs (the ε keeps it from splitting into H(a) + H(b)), eight pairs at a time
///   in single precision with their gradients in the same pass.
extension BSQLoss {
    func factoredGroupEntropies(_ u: UnsafePointer<Float>, tokens n: Int, total N: Int, scale ent: Double)
        -> (hPerSample: Double, hCodebook: Double, grad: [Double]) {
        let L = bits, G = groupSize, groups = L / G
        let G1 = G / 2, G2 = G - G1, C1 = 1 << G1, C2 = 1 << G2
        let s = 2 * invTemp / Double(L).squareRoot()
        let blockSize = BSQLoss.entropyBlock, blocks = (n + blockSize - 1) / blockSize
        // a[(gi·n + r)·C1 + c₁] and b likewise: the two half softmaxes, token rows contiguous per group
        var a = [Double](repeating: 0, count: groups * n * C1), b = [Double](repeating: 0, count: groups * n * C2)
        // ∂H(prob[r])/∂a and ∂/∂b, then (pass 2) the whole gradient in a and b
        var da = [Double](repeating: 0, count: groups * n * C1), db = [Double](repeating: 0, count: groups * n * C2)
        var partialMean = [Double](repeating: 0, count: blocks * groups * C1 * C2)
        var partialH = [Double](repeating: 0, count: blocks)
        var grad = [Double](repeating: 0, count: n * L)
        a.withUnsafeMutableBufferPointer { ab in b.withUnsafeMutableBufferPointer { bb in
        da.withUnsafeMutableBufferPointer { dab in db.withUnsafeMutableBufferPointer { dbb in
        partialMean.withUnsafeMutableBufferPointer { pmb in partialH.withUnsafeMutableBufferPointer { hb in
            let A = ab.baseAddress!, B = bb.baseAddress!, dA = dab.baseAddress!, dB = dbb.baseAddress!, PM = pmb.baseAddress!
            Parallel.forEach(blocks, threads: threads) { blk, _ in
                let r0 = blk * blockSize, rows = min(n, r0 + blockSize) - r0
                var fa = [Float](repeating: 0, count: C1), fb = [Float](repeating: 0, count: C2)
                var ga = [Double](repeating: 0, count: C1), gb = [Double](repeating: 0, count: C2)
                var h = 0.0
                for gi in 0..<groups {
                    for r in r0..<(r0 + rows) {
                        let ub = u + r * L + gi * G
                        let pa = A + (gi * n + r) * C1, pb = B + (gi * n + r) * C2
                        BSQLoss.groupSoftmax(ub, bits: G1, scale: s, into: pa)
                        BSQLoss.groupSoftmax(ub + G1, bits: G2, scale: s, into: pb)
                        for c in 0..<C1 { fa[c] = Float(pa[c]) }
                        for c in 0..<C2 { fb[c] = Float(pb[c]) }
                        h += BSQLoss.productEntropy(fa, fb, da: &ga, db: &gb)
                        for c in 0..<C1 { dA[(gi * n + r) * C1 + c] = ga[c] }
                        for c in 0..<C2 { dB[(gi * n + r) * C2 + c] = gb[c] }
                    }
                    // this block's share of the mean: aᵀ·b / N
                    BLAS.dgemm(transA: true, m: C1, n: C2, k: rows, alpha: 1 / Double(N),
                               a: A + (gi * n + r0) * C1, b: B + (gi * n + r0) * C2,
                               c: PM + (blk * groups + gi) * C1 * C2)
                }
                hb[blk] = h
            }
        }}}}}}
        let (hCodebook, dhm) = BSQLoss.codebookEntropy(partialMean, blocks: blocks, across: across)
        a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in
        da.withUnsafeMutableBufferPointer { dab in db.withUnsafeMutableBufferPointer { dbb in
        dhm.withUnsafeBufferPointer { db_ in grad.withUnsafeMutableBufferPointer { gr in
            let A = ab.baseAddress!, B = bb.baseAddress!, dA = dab.baseAddress!, dB = dbb.baseAddress!, D = db_.baseAddress!
            let inv = 1 / Double(N)
            Parallel.forEach(blocks, threads: threads) { blk, _ in
                let r0 = blk * blockSize, rows = min(n, r0 + blockSize) - r0
                for gi in 0..<groups {
                    let Dg = D + gi * C1 * C2
                    // dA ← ent·(γ0·∂H_ps − γ·∂H_cb)/N with ∂H_cb/∂a[r] = D·b[r]: (b·Dᵀ) rows
                    BLAS.dgemm(transB: true, m: rows, n: C1, k: C2, alpha: -ent * gamma * inv,
                               a: B + (gi * n + r0) * C2, b: Dg,
                               beta: ent * gamma0 * inv, c: dA + (gi * n + r0) * C1)
                    BLAS.dgemm(m: rows, n: C2, k: C1, alpha: -ent * gamma * inv,
                               a: A + (gi * n + r0) * C1, b: Dg,
                               beta: ent * gamma0 * inv, c: dB + (gi * n + r0) * C2)
                    for r in r0..<(r0 + rows) {
                        let o = gr.baseAddress! + r * L + gi * G
                        BSQLoss.groupSoftmaxBackward(A + (gi * n + r) * C1, dA + (gi * n + r) * C1, bits: G1,
                                                     scale: s, into: o)
                        BSQLoss.groupSoftmaxBackward(B + (gi * n + r) * C2, dB + (gi * n + r) * C2, bits: G2,
                                                     scale: s, into: o + G1)
                    }
                }
            }
        }}}}}}
        return (partialH.reduce(0, +) / Double(N), hCodebook, grad)
    }

    /// −Σ_{c₁,c₂} x·ln(x + ε), x = a[c₁]·b[c₂], and its gradients in a and b:
    /// ∂/∂a[c₁] = Σ_{c₂} b·f′(x), ∂/∂b[c₂] = Σ_{c₁} a·f′(x), f′(x) = −(ln(x + ε) + x/(x + ε)).
    /// Eight pairs at a time in single precision, two rows of a per pass; the
    /// column sums go to double every 16 rows. `a.count` must be even (it is
    /// 2^G₁) and `b.count` a multiple of 8.
    static func productEntropy(_ a: [Float], _ b: [Float], da: inout [Double], db: inout [Double]) -> Double {
        let C1 = a.count, V = b.count / 8
        var h = 0.0
        var sumB = [SIMD8<Float>](repeating: .zero, count: V)
        var accB = [SIMD8<Double>](repeating: .zero, count: V)
        b.withUnsafeBufferPointer { bp in
            bp.baseAddress!.withMemoryRebound(to: SIMD8<Float>.self, capacity: V) { bv in
                sumB.withUnsafeMutableBufferPointer { sb in
                    let eps = SIMD8<Float>(repeating: 1e-8)
                    // two rows at a time: each column's b and running sum loaded once for both
                    precondition(C1 % 2 == 0, "productEntropy takes rows in pairs")
                    var c = 0
                    while c < C1 {
                        let a0 = SIMD8<Float>(repeating: a[c]), a1 = SIMD8<Float>(repeating: a[c + 1])
                        var h0 = SIMD8<Float>.zero, d0 = SIMD8<Float>.zero, h1 = SIMD8<Float>.zero, d1 = SIMD8<Float>.zero
                        for v in 0..<V {
                            let q = bv[v], x0 = a0 * q, x1 = a1 * q
                            let (l0, r0) = FastLog.lnAndReciprocal(x0 + eps), (l1, r1) = FastLog.lnAndReciprocal(x1 + eps)
                            h0 = FastMath.fma(x0, l0, h0)
                            h1 = FastMath.fma(x1, l1, h1)
                            let f0 = FastMath.fma(x0, r0, l0), f1 = FastMath.fma(x1, r1, l1)
                            d0 = FastMath.fma(q, f0, d0)
                            d1 = FastMath.fma(q, f1, d1)
                            sb[v] = FastMath.fma(a1, f1, FastMath.fma(a0, f0, sb[v]))
                        }
                        h -= Double(h0.sum())
                        h -= Double(h1.sum())
                        da[c] = -Double(d0.sum())
                        da[c + 1] = -Double(d1.sum())
                        c += 2
                        // flush Σ_{c₁} a·f′ to double every 16 rows, eight lanes at a time
                        if c % 16 == 0 || c == C1 {
                            for v in 0..<V { accB[v] += SIMD8<Double>(sb[v]); sb[v] = .zero }
                        }
                    }
                }
            }
        }
        for i in 0..<b.count { db[i] = -accB[i / 8][i % 8] }
        return h
    }
}
