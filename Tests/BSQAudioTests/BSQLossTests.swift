import BSQAudio
import Foundation
import TestSupport
import XCTest

final class BSQLossTests: XCTestCase {
    /// ∂L_q/∂z through the normalization, by central differences, for both entropy modes.
    func testQuantizerGradientsByFiniteDifferences() {
        for (L, G, analytical) in [(18, 9, false), (18, 6, false), (18, 18, false), (12, 3, true)] {
            var loss = BSQLoss(bits: L, groupSize: G, analytical: analytical)
            loss.invTemp = 0.7
            loss.gamma0 = 0.9
            var rng = SplitMix64(seed: UInt64(L + G))
            let n = 5
            var z = (0..<(n * L)).map { _ in Float(rng.normal()) }
            func lq(_ z: [Float]) -> Double {
                var u = z
                normalize(&u, n: n, L: L)
                return loss.quantizer(u, tokens: n, du: nil).lq
            }
            var u = z
            normalize(&u, n: n, L: L)
            var du = [Float](repeating: 0, count: n * L), dz = du
            _ = loss.quantizer(u, tokens: n, du: &du)
            BSQQuantizer.normalizeBackward(dz: &dz, du: du, z: z, tokens: n, bits: L)
            var worst = 0.0
            for i in z.indices {
                let keep = z[i], h: Float = 1e-3
                z[i] = keep + h; let up = lq(z)
                z[i] = keep - h; let down = lq(z)
                z[i] = keep
                let numeric = (up - down) / Double(2 * h)
                worst = max(worst, abs(numeric - Double(dz[i])) / max(0.05, abs(numeric)))
            }
            XCTAssertLessThan(worst, 2e-2, "L \(L) G \(G) analytical \(analytical)")
        }
    }

    /// Large groups take the factored path (two half softmaxes, the mean as a
    /// matrix product, the per-sample entropy pair by pair in single precision):
    /// the same terms and gradients as the direct softmax over all 2^G entries,
    /// over more tokens than one block, sharp and soft.
    func testFactoredGroupEntropiesMatchTheDirectSoftmax() {
        for (L, G, n, invTemp) in [(20, 10, 300, 1.0), (20, 10, 300, 10.0), (18, 18, 24, 10.0), (14, 7, 40, 3.0)] {
            var direct = BSQLoss(bits: L, groupSize: G, analytical: false)
            direct.invTemp = invTemp
            direct.gamma0 = 0.8
            direct.gamma = 1.3
            direct.threads = 2
            direct.factorAbove = 64
            var factored = direct
            factored.factorAbove = 5
            var rng = SplitMix64(seed: UInt64(L * 100 + n))
            var u = (0..<(n * L)).map { _ in Float(rng.normal()) }
            normalize(&u, n: n, L: L)
            // a few tokens share a code exactly, as hard-quantized speech does
            for r in 1..<4 { for k in 0..<L { u[r * L + k] = u[k] } }
            var du1 = [Float](repeating: 0, count: n * L), du2 = du1
            let t1 = direct.quantizer(u, tokens: n, du: &du1), t2 = factored.quantizer(u, tokens: n, du: &du2)
            let what = "L \(L) G \(G) n \(n) inv_temp \(invTemp)"
            XCTAssertEqual(t2.hPerSample, t1.hPerSample, accuracy: 2e-6 * t1.hPerSample, what)
            XCTAssertEqual(t2.hCodebook, t1.hCodebook, accuracy: 1e-9 * t1.hCodebook, what)
            XCTAssertEqual(t2.lq, t1.lq, accuracy: 1e-5 * abs(t1.lq), what)
            let scale = du1.map { abs($0) }.max()!
            let worst = zip(du1, du2).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst / scale, 1e-4, what)
        }
    }

    func testL1AndRamp() {
        let y: [Float] = [-1.5, -0.5, 0.2, 0.9, 1.2], x: [Float] = [-0.8, -0.4, 0.5, 0.9, 0.1]
        var dy = [Float](repeating: 9, count: 5)
        let v = BSQLoss.l1(y, x, count: 5, dy: &dy)
        XCTAssertEqual(v, (0.2 + 0.1 + 0.3 + 0 + 0.9) / 5, accuracy: 1e-6)
        XCTAssertEqual(dy, [0, -0.2, -0.2, 0, 0])
        let loss = BSQLoss(bits: 18, groupSize: 9, analytical: false)
        XCTAssertEqual(loss.lambdaQ(step: 0), 0.3, accuracy: 1e-12)
        XCTAssertEqual(loss.lambdaQ(step: 1000), 0.2, accuracy: 1e-12)
        XCTAssertEqual(loss.lambdaQ(step: 2000), 0.1, accuracy: 1e-12)
        XCTAssertEqual(loss.lambdaQ(step: 9000), 0.1, accuracy: 1e-12)
        var flat = loss
        flat.rampSteps = 0
        XCTAssertEqual(flat.lambdaQ(step: 0), 0.1, accuracy: 1e-12, "ramp_steps 0: no ramp")
    }

    func normalize(_ z: inout [Float], n: Int, L: Int) {
        for r in 0..<n {
            var s: Float = 0
            for k in 0..<L { s += z[r * L + k] * z[r * L + k] }
            let inv = 1 / max(s.squareRoot(), 1e-12)
            for k in 0..<L { z[r * L + k] *= inv }
        }
    }
}

/// BSQLoss against the PyTorch reference's loss (Tests/Fixtures/model/make_loss_fixtures.py,
/// float64 values): tokens, every term, ∂L_q/∂z, the L1 term and the λ ramp.
final class BSQLossFixtureTests: XCTestCase {
    struct Case: Decodable {
        struct L1: Decodable { let y: [Float]; let x: [Float]; let l1: Double; let dl1_dy: [Double] }
        struct Ramp: Decodable { let steps: [Int]; let lambda_q: [Double] }
        let name: String, L: Int, G: Int, mode: String
        let inv_temp: Double, beta: Double, gamma0: Double, gamma: Double, zeta: Double
        let n: Int
        let z: [Float]
        let tokens: [UInt64]
        let commit: Double, h_ps: Double, h_cb: Double, l_q: Double
        let dlq_dz: [Double]
        let l1: L1
        let ramp: Ramp
    }

    func testAgainstPyTorch() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(Repo.fixtureData("model/loss_cases.json")))
        XCTAssertEqual(cases.count, 8)
        for c in cases {
            var loss = BSQLoss(bits: c.L, groupSize: c.G, analytical: c.mode == "analytical")
            loss.invTemp = c.inv_temp; loss.beta = c.beta; loss.gamma0 = c.gamma0; loss.gamma = c.gamma; loss.zeta = c.zeta
            var u = c.z
            var tokens = [UInt64](repeating: 0, count: c.n)
            BSQQuantizer.quantize(&u, rows: c.n, bits: c.L, tokens: &tokens)
            XCTAssertEqual(tokens, c.tokens, c.name)
            var du = [Float](repeating: 0, count: c.n * c.L), dz = du
            let t = loss.quantizer(u, tokens: c.n, du: &du)
            XCTAssertEqual(t.commit, c.commit, accuracy: 1e-5 * max(1, c.commit), c.name)
            XCTAssertEqual(t.hPerSample, c.h_ps, accuracy: 1e-5 * c.h_ps, c.name)
            XCTAssertEqual(t.hCodebook, c.h_cb, accuracy: 1e-5 * c.h_cb, c.name)
            // L_q is a small difference of large entropies: compare on the scale of its terms
            let scale = c.beta * c.commit + c.zeta * (c.gamma0 * c.h_ps + c.gamma * c.h_cb) / c.inv_temp
            XCTAssertEqual(t.lq, c.l_q, accuracy: 1e-6 * scale, c.name)
            BSQQuantizer.normalizeBackward(dz: &dz, du: du, z: c.z, tokens: c.n, bits: c.L)
            let top = c.dlq_dz.map(abs).max()!
            for (a, b) in zip(dz, c.dlq_dz) { XCTAssertEqual(Double(a), b, accuracy: 1e-4 * top, c.name) }
            var dy = [Float](repeating: 0, count: c.l1.y.count)
            XCTAssertEqual(BSQLoss.l1(c.l1.y, c.l1.x, count: c.l1.y.count, dy: &dy), c.l1.l1, accuracy: 1e-6, c.name)
            for (a, b) in zip(dy, c.l1.dl1_dy) { XCTAssertEqual(Double(a), b, accuracy: 1e-7, c.name) }
            for (s, l) in zip(c.ramp.steps, c.ramp.lambda_q) { XCTAssertEqual(loss.lambdaQ(step: s), l, accuracy: 1e-12) }
        }
    }
}
