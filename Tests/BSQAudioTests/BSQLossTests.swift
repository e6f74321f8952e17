import BSQAudio
import Foundation
import TestSupport
import XCTest

final class BSQLossTests: XCTestCase {
    /// ∂L_q/∂z through the normalization, by central differences, for both entropy modes.
    func testQuantizerGradientsByFiniteDifferences() {
        for (L, G, analytical) in [(18, 9, false), (18, 6, false), (12, 3, true)] {
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
            BSQLoss.normalizeBackward(dz: &dz, du: du, z: z, tokens: n, bits: L)
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
