import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Every backward pass against central differences of Σ forward ⊙ G on a
/// tiny configuration (float forward, so step 1e-2 and 2 % tolerance).
final class GradientTests: XCTestCase {
    final class Tensor {
        var v: [Float]
        init(_ n: Int, _ rng: inout SplitMix64, scale: Double = 1) { v = (0..<n).map { _ in Float(scale * rng.normal()) } }
        init(_ v: [Float]) { self.v = v }
        var p: UnsafeMutablePointer<Float> { v.withUnsafeMutableBufferPointer { $0.baseAddress! } }
    }

    /// Compares `grad` with central differences of `loss` in every entry of `t`.
    func assertGradient(_ name: String, _ t: Tensor, _ grad: [Float], _ loss: () -> Double,
                        file: StaticString = #filePath, line: UInt = #line) {
        let h: Float = 1e-2
        var worst = 0.0
        for i in t.v.indices {
            let keep = t.v[i]
            t.v[i] = keep + h; let up = loss()
            t.v[i] = keep - h; let down = loss()
            t.v[i] = keep
            let numeric = (up - down) / Double(2 * h)
            worst = max(worst, abs(numeric - Double(grad[i])) / max(1, abs(numeric)))
        }
        XCTAssertLessThan(worst, 2e-2, "\(name): worst relative error \(worst)", file: file, line: line)
    }

    func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    func testLayerNormAndLinear() {
        var rng = SplitMix64(seed: 1)
        let rows = 3, cols = 6, outDim = 4
        let x = Tensor(rows * cols, &rng), w = Tensor(cols, &rng), b = Tensor(cols, &rng), g = Tensor(rows * cols, &rng)
        func ln() -> [Float] {
            var out = [Float](repeating: 0, count: rows * cols)
            LayerNorm.forward(&out, x.v, weight: w.v, bias: b.v, rows: rows, cols: cols)
            return out
        }
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        var out = [Float](repeating: 0, count: rows * cols)
        LayerNorm.forward(&out, x.v, weight: w.v, bias: b.v, rows: rows, cols: cols, mean: &mean, rstd: &rstd)
        var dx = [Float](repeating: 0, count: rows * cols), dw = [Float](repeating: 0, count: cols), db = dw
        LayerNorm.backward(dx: &dx, dweight: &dw, dbias: &db, dout: g.v, x: x.v, weight: w.v, mean: mean, rstd: rstd, rows: rows, cols: cols)
        assertGradient("layernorm dx", x, dx) { self.dot(ln(), g.v) }
        assertGradient("layernorm dweight", w, dw) { self.dot(ln(), g.v) }
        assertGradient("layernorm dbias", b, db) { self.dot(ln(), g.v) }

        let W = Tensor(outDim * cols, &rng), B = Tensor(outDim, &rng), G = Tensor(rows * outDim, &rng)
        func lin() -> [Float] {
            var o = [Float](repeating: 0, count: rows * outDim)
            Linear.forward(&o, x.v, weight: W.v, bias: B.v, rows: rows, inDim: cols, outDim: outDim)
            return o
        }
        var ldx = [Float](repeating: 0, count: rows * cols), ldw = [Float](repeating: 0, count: outDim * cols), ldb = [Float](repeating: 0, count: outDim)
        Linear.backward(dx: &ldx, dweight: &ldw, dbias: &ldb, dout: G.v, x: x.v, weight: W.v, rows: rows, inDim: cols, outDim: outDim)
        assertGradient("linear dx", x, ldx) { self.dot(lin(), G.v) }
        assertGradient("linear dweight", W, ldw) { self.dot(lin(), G.v) }
        assertGradient("linear dbias", B, ldb) { self.dot(lin(), G.v) }
    }

    func testActivations() {
        var rng = SplitMix64(seed: 2)
        let n = 24
        let x = Tensor(n, &rng, scale: 2), g = Tensor(n, &rng)
        for (name, fwd, bwd) in [
            ("gelu", { (p: UnsafeMutablePointer<Float>) in Activations.gelu(p, count: n) },
             { (d: UnsafeMutablePointer<Float>) in Activations.geluBackward(dx: d, dout: g.v, x: x.v, count: n) }),
            ("silu", { Activations.silu($0, count: n) }, { Activations.siluBackward(dx: $0, dout: g.v, x: x.v, count: n) }),
        ] as [(String, (UnsafeMutablePointer<Float>) -> Void, (UnsafeMutablePointer<Float>) -> Void)] {
            var d = [Float](repeating: 0, count: n)
            d.withUnsafeMutableBufferPointer { bwd($0.baseAddress!) }
            assertGradient(name, x, d) { var y = x.v; y.withUnsafeMutableBufferPointer { fwd($0.baseAddress!) }; return self.dot(y, g.v) }
        }
        var y = x.v
        Activations.tanh(&y, count: n)
        var dt = [Float](repeating: 0, count: n)
        Activations.tanhBackward(dx: &dt, dout: g.v, y: y, count: n)
        assertGradient("tanh", x, dt) { var t = x.v; Activations.tanh(&t, count: n); return self.dot(t, g.v) }
        let rows = 3, cols = 4
        let gl = Tensor(rows * cols, &rng)
        var dglu = [Float](repeating: 0, count: rows * 2 * cols)
        Activations.gluBackward(dx: &dglu, dout: gl.v, x: x.v, rows: rows, cols: cols)
        assertGradient("glu", x, dglu) {
            var o = [Float](repeating: 0, count: rows * cols)
            Activations.glu(&o, x.v, rows: rows, cols: cols)
            return self.dot(o, gl.v)
        }
    }

    func testAttention() {
        var rng = SplitMix64(seed: 3)
        let seqs = 2, n = 5, w = 8, heads = 2
        let qkv = Tensor(seqs * n * 3 * w, &rng), g = Tensor(seqs * n * w, &rng)
        var scores = [Float](repeating: 0, count: n * n)
        func attend() -> [Float] {
            var out = [Float](repeating: 0, count: seqs * n * w)
            for s in 0..<seqs { for h in 0..<heads {
                Attention.forward(&out, qkv: qkv.v, scores: &scores, sequence: s, head: h, tokens: n, width: w, heads: heads)
            } }
            return out
        }
        var dqkv = [Float](repeating: 0, count: qkv.v.count)
        var out = [Float](repeating: 0, count: seqs * n * w), probs = [Float](repeating: 0, count: n * n), scratch = probs
        for s in 0..<seqs { for h in 0..<heads {
            Attention.forward(&out, qkv: qkv.v, scores: &scores, sequence: s, head: h, tokens: n, width: w, heads: heads, probabilities: &probs)
            Attention.backward(dqkv: &dqkv, dout: g.v, qkv: qkv.v, probabilities: probs, scratch: &scratch, sequence: s, head: h, tokens: n, width: w, heads: heads)
        } }
        assertGradient("attention dqkv", qkv, dqkv) { self.dot(attend(), g.v) }
    }

    func testDepthwiseConvAndBatchNorm() {
        var rng = SplitMix64(seed: 4)
        let seqs = 2, nt = 5, nf = 2, w = 3, K = 3, rows = seqs * nt * nf
        let x = Tensor(rows * w, &rng), wt = Tensor(w * K, &rng), b = Tensor(w, &rng), g = Tensor(rows * w, &rng)
        func conv() -> [Float] {
            var o = [Float](repeating: 0, count: rows * w)
            DepthwiseTimeConv.forward(&o, x.v, weight: wt.v, bias: b.v, sequences: seqs, nt: nt, nf: nf, channels: w, kernel: K)
            return o
        }
        var dx = [Float](repeating: 0, count: rows * w), dw = [Float](repeating: 0, count: w * K), db = [Float](repeating: 0, count: w)
        DepthwiseTimeConv.backward(dx: &dx, dweight: &dw, dbias: &db, dout: g.v, x: x.v, weight: wt.v, sequences: seqs, nt: nt, nf: nf, channels: w, kernel: K)
        assertGradient("depthwise dx", x, dx) { self.dot(conv(), g.v) }
        assertGradient("depthwise dweight", wt, dw) { self.dot(conv(), g.v) }
        assertGradient("depthwise dbias", b, db) { self.dot(conv(), g.v) }

        let gamma = Tensor(w, &rng), beta = Tensor(w, &rng)
        func bn(_ rm: inout [Float], _ rv: inout [Float], _ m: inout [Float], _ r: inout [Float]) -> [Float] {
            var o = [Float](repeating: 0, count: rows * w)
            BatchNorm.training(&o, x.v, rows: rows, channels: w, weight: gamma.v, bias: beta.v, runningMean: &rm, runningVariance: &rv, mean: &m, rstd: &r)
            return o
        }
        var rm = [Float](repeating: 0, count: w), rv = [Float](repeating: 1, count: w), m = rm, r = rm
        _ = bn(&rm, &rv, &m, &r)
        // running statistics: PyTorch's update with the unbiased variance
        for c in 0..<w {
            let col = (0..<rows).map { Double(x.v[$0 * w + c]) }
            let mu = col.reduce(0, +) / Double(rows)
            let unbiased = col.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(rows - 1)
            XCTAssertEqual(Double(rm[c]), 0.1 * mu, accuracy: 1e-5)
            XCTAssertEqual(Double(rv[c]), 0.9 + 0.1 * unbiased, accuracy: 1e-5)
        }
        var bdx = [Float](repeating: 0, count: rows * w), bdw = [Float](repeating: 0, count: w), bdb = bdw
        BatchNorm.trainingBackward(dx: &bdx, dweight: &bdw, dbias: &bdb, dout: g.v, x: x.v, weight: gamma.v, mean: m, rstd: r, rows: rows, channels: w)
        assertGradient("batchnorm dx", x, bdx) { var a = rm, c = rv, d = m, e = r; return self.dot(bn(&a, &c, &d, &e), g.v) }
        assertGradient("batchnorm dweight", gamma, bdw) { var a = rm, c = rv, d = m, e = r; return self.dot(bn(&a, &c, &d, &e), g.v) }
        assertGradient("batchnorm dbias", beta, bdb) { var a = rm, c = rv, d = m, e = r; return self.dot(bn(&a, &c, &d, &e), g.v) }
    }
}
