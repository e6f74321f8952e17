import BSQAudio
import Foundation
import TestSupport
import XCTest

/// One adversarial training step of micro18 (2 chunks of utt1, step 500, a
/// discriminator of ndf 8 and 2 layers, weight 0.5, adaptive) against PyTorch
/// autograd (Tests/Fixtures/model/make_adv_fixture.py): every term, the
/// tokenizer's gradients with the generator's term, the discriminator step's
/// gradients and the discriminator's running statistics after its three calls.
final class AdversarialStepTests: XCTestCase {
    func testOneAdversarialStepMatchesPyTorch() throws {
        let want = try SafeTensors(path: Repo.fixture("model/expected_micro18_adv.safetensors").path)
        let meta = { (k: String) in Double(want.metadata[k] ?? "") ?? .nan }
        let ck = try Checkpoint(path: Repo.fixture("model/micro18.safetensors").path)
        let c = ck.config
        let frame = try decodeFrames(try Repo.fixtureData("model/mel_input.bsqt"))[0]
        let mel = Array(try frame.values(as: Float.self)[0..<(2 * c.frames * c.n_mels)])
        var disc = DiscConfig()
        disc.weight = 0.5; disc.ndf = 8; disc.layers = 2
        let step = TrainingStep(config: c, batch: 2, threads: 2)
        step.adversarial = AdversarialStep(model: c, config: disc, batch: 2, threads: 2)
        let d = step.adversarial!.discriminator
        var dParams = [Float](repeating: 0, count: d.layout.count)
        for s in d.layout.slots { dParams.replaceSubrange(s.offset..<(s.offset + s.count), with: try want.floats(named: "disc.init." + s.name)) }
        var params = ck.weights, grads = [Float](repeating: 0, count: params.count), dGrads = [Float](repeating: 0, count: d.layout.count)
        let r = step.run(params: &params, grads: &grads, mel: mel, step: 500, disc: &dParams, discGrads: &dGrads)
        let a = try XCTUnwrap(r.adversarial)
        for (got, key) in [(r.l1, "l1"), (a.gLoss, "g_loss"), (a.dWeight, "d_weight"), (a.dLoss, "d_loss"), (r.total, "total"),
                           (a.logitsReal, "logits_real_mean"), (a.logitsFake, "logits_fake_mean")] {
            XCTAssertEqual(got, meta(key), accuracy: 1e-4 * max(abs(meta(key)), 0.01), key)
        }
        var worst = 0.0
        func compare(_ got: ArraySlice<Float>, _ ref: [Float], _ what: String, structuralZero: Bool) {
            let err = zip(got, ref).map { abs(Double($0) - Double($1)) }.max() ?? 0
            if structuralZero {
                // removed by a training-mode BatchNorm: the true gradient is 0, both sides hold float32 noise
                XCTAssertLessThanOrEqual(err, 1e-5, what)
                return
            }
            let top = max(Double(ref.map(abs).max() ?? 0), 1e-12)
            worst = max(worst, err / top)
            XCTAssertLessThanOrEqual(err / top, 1e-4, "\(what): max |Δ| \(err) against max \(top)")
        }
        for s in step.layout.slots {
            let running = s.name.contains("running_")
            let ref = try want.floats(named: (running ? "running." : "grad.") + s.name)
            compare(running ? params[s.offset..<(s.offset + s.count)] : grads[s.offset..<(s.offset + s.count)], ref, s.name,
                    structuralZero: s.name.hasSuffix("depthwise_conv.bias"))
        }
        let normalized = Set(d.layers.filter { $0.norm != nil }.map(\.bias))
        for s in d.layout.slots {
            let running = s.name.hasSuffix("running_mean") || s.name.hasSuffix("running_var")
            let ref = try want.floats(named: (running ? "disc.running." : "disc.grad.") + s.name)
            compare(running ? dParams[s.offset..<(s.offset + s.count)] : dGrads[s.offset..<(s.offset + s.count)], ref, s.name,
                    structuralZero: normalized.contains(s))
        }
        print("adversarial step vs PyTorch: worst relative error \(worst)")
    }
}
