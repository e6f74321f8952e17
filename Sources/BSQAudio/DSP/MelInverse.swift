import Foundation

/// From dB mel frames back to an STFT magnitude, as librosa's
/// `db_to_power` + `feature.inverse.mel_to_stft` do:
///
///     M = ref · 10^(dB/10)                          (ref = 1 when the frames' ref is max)
///     X = argmin_{X ≥ 0} ‖X·A − M‖²,   |S| = X^(1/power)
///
/// with A the `[bins, n_mels]` filterbank of the analysis. librosa solves
/// the non-negative least squares with L-BFGS-B started at the projected
/// least-squares solution X₀ = max(0, M · pinv(A)ᵀ), over blocks of
/// 2¹⁸ / (4 · n_mels) frames, and stops as soon as the projected gradient of
/// ½‖X·A − M‖² / (n_mels · frames) is at most 1e-5 in every entry. For
/// spectrograms in dB that already holds at X₀ (the gradient is of the order
/// of 1e-7), so X₀ is librosa's answer: that is what this computes, with
/// pinv(A) from an eigendecomposition of A·Aᵀ in double. A block where the
/// test fails is refined by projected gradient steps of 1 / λmax(A·Aᵀ) until
/// it passes (where librosa's L-BFGS-B path may end elsewhere).
public struct MelInverse: Sendable {
    public let analysis: MelAnalysis
    public let filterbank: MelFilterbank
    /// pinv(A) as `[n_mels, bins]`, so that X₀ = M · this in one sgemm.
    let pinvT: [Float]
    /// The largest eigenvalue of Aᵀ·A.
    let lambdaMax: Double
    /// scipy's `fmin_l_bfgs_b` default `pgtol`.
    public static let pgtol: Float = 1e-5
    public static let maxRefinements = 1000

    public init(_ analysis: MelAnalysis) {
        self.analysis = analysis
        let fb = MelFilterbank(analysis)
        filterbank = fb
        let m = fb.nMels, bins = fb.bins
        // C = A·Aᵀ (n_mels × n_mels), in double
        var c = [Double](repeating: 0, count: m * m)
        for k in 0..<bins {
            for i in 0..<m {
                let a = Double(fb.weightsT[k * m + i])
                if a == 0 { continue }
                for j in 0..<m { c[i * m + j] += a * Double(fb.weightsT[k * m + j]) }
            }
        }
        let (values, vectors) = SymmetricEigen.decompose(c, n: m)
        let top = values.max() ?? 0
        lambdaMax = top
        // C⁺ = Σ vᵢ vᵢᵀ / λᵢ over λᵢ > 1e-12 λmax (singular values above 1e-6 of the largest)
        var cPlus = [Double](repeating: 0, count: m * m)
        for (e, lambda) in values.enumerated() where lambda > top * 1e-12 {
            for i in 0..<m {
                let vi = vectors[i * m + e] / lambda
                for j in 0..<m { cPlus[i * m + j] += vi * vectors[j * m + e] }
            }
        }
        // pinv(A)ᵀ = C⁺ · A
        var p = [Float](repeating: 0, count: m * bins)
        for i in 0..<m {
            for k in 0..<bins {
                var s = 0.0
                for j in 0..<m { s += cPlus[i * m + j] * Double(fb.weightsT[k * m + j]) }
                p[i * bins + k] = Float(s)
            }
        }
        pinvT = p
    }

    /// dB values back to mel values: `ref · 10^(dB/10)` in float32.
    public func power(decibels: [Float]) -> [Float] {
        let ref: Float
        switch analysis.ref {
        case .max: ref = 1
        case .value(let r): ref = Float(r)
        }
        return decibels.map { ref * Foundation.pow(Float(10), 0.1 * $0) }
    }

    /// The STFT magnitude `[frames, bins]` of mel values `[frames, n_mels]`,
    /// and how many blocks needed refining (0 when librosa's answer is exact).
    public func magnitude(melPower mel: [Float], frames: Int) -> (values: [Float], refinedBlocks: Int) {
        let m = filterbank.nMels, bins = filterbank.bins
        precondition(mel.count == frames * m, "mel values do not match frames × n_mels")
        var x = [Float](repeating: 0, count: frames * bins)
        var refined = 0
        mel.withUnsafeBufferPointer { b in
            x.withUnsafeMutableBufferPointer { xp in
                pinvT.withUnsafeBufferPointer { pt in
                    BLAS.sgemm(m: frames, n: bins, k: m, a: b.baseAddress!, b: pt.baseAddress!, c: xp.baseAddress!)
                }
                for i in 0..<xp.count where !(xp[i] > 0) { xp[i] = 0 }
                let block = max(1, (1 << 18) / (m * 4))
                for t0 in stride(from: 0, to: frames, by: block) {
                    let rows = min(block, frames - t0)
                    if refine(xp.baseAddress! + t0 * bins, b.baseAddress! + t0 * m, rows: rows) { refined += 1 }
                }
            }
        }
        let p = analysis.power
        if p == 2 { for i in x.indices { x[i] = x[i].squareRoot() } }
        else if p != 1 { let e = Float(1 / p); for i in x.indices { x[i] = Foundation.pow(x[i], e) } }
        return (x, refined)
    }

    /// Checks librosa's stopping rule on one block and, when it fails, takes
    /// projected gradient steps until it holds. True when any step was taken.
    func refine(_ x: UnsafeMutablePointer<Float>, _ target: UnsafePointer<Float>, rows: Int) -> Bool {
        let m = filterbank.nMels, bins = filterbank.bins
        var residual = [Float](repeating: 0, count: rows * m)
        var gradient = [Float](repeating: 0, count: rows * bins)
        let scale = 1 / Float(rows * m), step = Float(1 / lambdaMax)
        var steps = 0
        filterbank.weightsT.withUnsafeBufferPointer { w in
            residual.withUnsafeMutableBufferPointer { r in
                gradient.withUnsafeMutableBufferPointer { g in
                    while true {
                        // R = X·A − M;  G = R·Aᵀ  (the gradient times rows · n_mels)
                        BLAS.sgemm(m: rows, n: m, k: bins, a: x, b: w.baseAddress!, c: r.baseAddress!)
                        for i in 0..<(rows * m) { r[i] -= target[i] }
                        BLAS.sgemm(transB: true, m: rows, n: bins, k: m, a: r.baseAddress!, b: w.baseAddress!, c: g.baseAddress!)
                        var worst: Float = 0
                        for i in 0..<(rows * bins) {
                            let gi = g[i] * scale
                            worst = Swift.max(worst, gi < 0 ? -gi : Swift.min(x[i], gi))
                        }
                        if worst <= MelInverse.pgtol || steps == MelInverse.maxRefinements { return }
                        for i in 0..<(rows * bins) { x[i] = Swift.max(0, x[i] - step * g[i]) }
                        steps += 1
                    }
                }
            }
        }
        return steps > 0
    }
}

/// Eigenvalues and eigenvectors of a small symmetric matrix by cyclic Jacobi
/// rotations, in double.
enum SymmetricEigen {
    /// `a` is row-major n × n; returns the eigenvalues and the eigenvectors as
    /// the columns of a row-major n × n matrix.
    static func decompose(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += a[p * n + q] * a[p * n + q] } }
            if off <= total * 1e-30 { break }
            for p in 0..<max(0, n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
