import BSQAudio
import Foundation
import TestSupport
import XCTest

/// The PatchGAN discriminator and the hinge / adaptive-weight terms against
/// PyTorch autograd on the reference module (Tests/Fixtures/model/
/// reference_discriminator.py, fixture by make_disc_fixture.py), and the
/// 2-D convolution by finite differences.
final class DiscriminatorTests: XCTestCase {
    func testOneDiscriminatorStepAndTheGeneratorTermMatchPyTorch() throws {
        for name in ["expected_disc.safetensors", "expected_disc_nl2.safetensors"] {
            let path = Repo.fixture("model/" + name).path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let f = try SafeTensors(path: path)
            let meta = { (k: String) in Double(f.metadata[k] ?? "") ?? .nan }
            let d = Discriminator(ndf: Int(meta("ndf")), layers: Int(meta("n_layers")))
            let normalized = Set(d.layers.filter { $0.norm != nil }.map(\.bias))
            guard let shape = f.entry("real")?.shape, shape.count == 4 else { throw BSQError("fixture lacks real") }
            let (batch, height, width) = (shape[0], shape[2], shape[3])
            var params = [Float](repeating: 0, count: d.layout.count)
            for s in d.layout.slots { params.replaceSubrange(s.offset..<(s.offset + s.count), with: try f.floats(named: s.name)) }
            var real = try f.floats(named: "real"), fake = try f.floats(named: "fake")
            let arena = Arena(), scratch = Arena()
            try params.withUnsafeMutableBufferPointer { pb in
                let w = Weights(pb.baseAddress!, d.layout), running = ParameterBuffer(pb.baseAddress!)
                var grads = [Float](repeating: 0, count: d.layout.count)
                // the discriminator's step: real and fake in two calls, hinge loss, gradients of every parameter
                let cr = real.withUnsafeMutableBufferPointer { d.forward(w, images: $0.baseAddress!, batch: batch, height: height, width: width,
                                                                        running: running, arena: arena, threads: 2) }
                let cf = fake.withUnsafeMutableBufferPointer { d.forward(w, images: $0.baseAddress!, batch: batch, height: height, width: width,
                                                                        running: running, arena: arena, threads: 2) }
                let n = batch * d.shapes(height: height, width: width).last!.outputCount
                assertClose(Array(UnsafeBufferPointer(start: cr.logits, count: n)), try f.floats(named: "logits_real"), "\(name) logits_real")
                assertClose(Array(UnsafeBufferPointer(start: cf.logits, count: n)), try f.floats(named: "logits_fake"), "\(name) logits_fake")
                var dReal = [Float](repeating: 0, count: n), dFake = dReal
                let dLoss = AdversarialLoss.hingeD(real: cr.logits, fake: cf.logits, count: n, dReal: &dReal, dFake: &dFake)
                XCTAssertEqual(dLoss, meta("d_loss"), accuracy: 1e-5 * max(1, abs(meta("d_loss"))))
                grads.withUnsafeMutableBufferPointer { g in
                    d.backward(w, cr, dlogits: dReal, grads: ParameterBuffer(g.baseAddress!), inputGradient: false, scratch: scratch, threads: 2)
                    d.backward(w, cf, dlogits: dFake, grads: ParameterBuffer(g.baseAddress!), inputGradient: false, scratch: scratch, threads: 2)
                }
                for s in d.layout.slots {
                    if s.name.hasSuffix("running_mean") || s.name.hasSuffix("running_var") {
                        if let want = try? f.floats(named: "running_after_d." + s.name) {
                            assertClose(Array(pb[s.offset..<(s.offset + s.count)]), want, "\(name) \(s.name) after the step")
                        }
                    } else if normalized.contains(s) {
                        // a conv bias that feeds a training-mode BatchNorm is removed by it: its true
                        // gradient is 0 and both sides hold float32 noise, compared in absolute terms
                        let got = Array(grads[s.offset..<(s.offset + s.count)]), want = try f.floats(named: "grad." + s.name)
                        XCTAssertLessThanOrEqual(zip(got, want).map { abs($0 - $1) }.max() ?? 0, 1e-5, "\(name) grad \(s.name)")
                    } else {
                        assertClose(Array(grads[s.offset..<(s.offset + s.count)]), try f.floats(named: "grad." + s.name), "\(name) grad \(s.name)")
                    }
                }
            }
            // the generator's term on a fresh copy: g_loss and its gradient at the fake images
            var fresh = [Float](repeating: 0, count: d.layout.count)
            for s in d.layout.slots { fresh.replaceSubrange(s.offset..<(s.offset + s.count), with: try f.floats(named: s.name)) }
            try fresh.withUnsafeMutableBufferPointer { pb in
                let w = Weights(pb.baseAddress!, d.layout)
                arena.reset(); scratch.reset()
                let c = fake.withUnsafeMutableBufferPointer { d.forward(w, images: $0.baseAddress!, batch: batch, height: height, width: width,
                                                                       running: nil, arena: arena, threads: 1) }
                let n = batch * d.shapes(height: height, width: width).last!.outputCount
                var dFake = [Float](repeating: 0, count: n)
                let gLoss = AdversarialLoss.generator(fake: c.logits, count: n, dFake: &dFake)
                XCTAssertEqual(gLoss, meta("g_loss"), accuracy: 1e-5 * max(1, abs(meta("g_loss"))))
                let dx = d.backward(w, c, dlogits: dFake, grads: nil, inputGradient: true, scratch: scratch, threads: 1)!
                assertClose(Array(UnsafeBufferPointer(start: dx, count: fake.count)), try f.floats(named: "grad_fake"), "\(name) grad_fake")
            }
            let nll = try f.floats(named: "nll_grad"), g = try f.floats(named: "g_grad")
            XCTAssertEqual(AdversarialLoss.adaptiveWeight(nllGrad: nll, gGrad: g, count: nll.count, weight: 0.5), meta("d_weight"),
                           accuracy: 1e-5 * meta("d_weight"))
        }
    }

    /// Conv2d's gradients (input, weight, bias) by central differences, stride 1 and 2.
    func testConv2dByFiniteDifferences() {
        for stride in [1, 2] {
            let s = Conv2dShape(channels: 2, outChannels: 3, height: 7, width: 6, kernel: 4, stride: stride, pad: 1)
            var rng = SplitMix64(seed: UInt64(stride))
            var x = (0..<s.inputCount).map { _ in Float(rng.normal()) }
            var wt = (0..<(s.outChannels * s.patch)).map { _ in Float(0.3 * rng.normal()) }
            var b = (0..<s.outChannels).map { _ in Float(rng.normal()) }
            let probe = (0..<s.outputCount).map { _ in Float(rng.normal()) }
            var cols = [Float](repeating: 0, count: s.patch * s.positions), dcols = cols
            func loss() -> Double {
                var y = [Float](repeating: 0, count: s.outputCount)
                Conv2d.forward(&y, x, weight: wt, bias: b, cols: &cols, s)
                return zip(y, probe).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            }
            var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: wt.count), db = [Float](repeating: 0, count: b.count)
            Conv2d.backward(dx: &dx, dweight: &dw, dbias: &db, dout: probe, x: x, weight: wt, cols: &cols, dcols: &dcols, s)
            func nudge(_ which: Int, _ i: Int, _ delta: Float) {
                switch which {
                case 0: x[i] += delta
                case 1: wt[i] += delta
                default: b[i] += delta
                }
            }
            for (which, g, what) in [(0, dx, "dx"), (1, dw, "dweight"), (2, db, "dbias")] {
                for i in [0, g.count / 3, g.count / 2, g.count - 1] {
                    let h: Float = 1e-2
                    nudge(which, i, h); let up = loss()
                    nudge(which, i, -2 * h); let down = loss()
                    nudge(which, i, h)
                    XCTAssertEqual((up - down) / Double(2 * h), Double(g[i]), accuracy: 2e-3 * max(1, abs(Double(g[i]))), "\(what)[\(i)] stride \(stride)")
                }
            }
        }
    }
}
