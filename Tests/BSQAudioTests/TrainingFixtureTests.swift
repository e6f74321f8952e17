import BSQAudio
import Foundation
import TestSupport
import XCTest

/// One training step of micro18 (2 chunks of utt1, step 500) against PyTorch
/// autograd on the reference module (Tests/Fixtures/model/make_grad_fixture.py):
/// loss terms, every parameter gradient and the BatchNorm running statistics;
/// then the clipped AdamW step and the EMA (make_adamw_fixture.py).
final class TrainingFixtureTests: XCTestCase {
    @discardableResult
    func run(straightThrough: Bool, expected: String) throws -> (params: [Float], grads: [Float], step: TrainingStep) {
        let path = Repo.fixture("model/" + expected).path
        guard FileManager.default.fileExists(atPath: path) else { throw BSQError("missing fixture \(expected)") }
        let ck = try Checkpoint(path: Repo.fixture("model/micro18.safetensors").path)
        let c = ck.config
        let frame = try decodeFrames(try Repo.fixtureData("model/mel_input.bsqt"))[0]
        let mel = Array(try frame.values(as: Float.self)[0..<(2 * c.frames * c.n_mels)])
        let step = TrainingStep(config: c, batch: 2)
        step.straightThrough = straightThrough
        var params = ck.weights, grads = [Float](repeating: 0, count: params.count)
        let r = step.run(params: &params, grads: &grads, mel: mel, step: 500)
        let want = try SafeTensors(path: path)
        let terms = try JSONValue.parse(want.metadata["terms"] ?? "{}")
        func term(_ k: String) -> Double { terms[k]?.number ?? .nan }
        XCTAssertEqual(r.l1, term("l1"), accuracy: 1e-4 * term("l1"))
        XCTAssertEqual(r.quantizer.commit, term("commit"), accuracy: 1e-4 * term("commit"))
        XCTAssertEqual(r.quantizer.hPerSample, term("h_ps"), accuracy: 1e-4 * term("h_ps"))
        XCTAssertEqual(r.quantizer.hCodebook, term("h_cb"), accuracy: 1e-4 * term("h_cb"))
        XCTAssertEqual(r.lambdaQ, term("lambda_q"), accuracy: 1e-12)
        XCTAssertEqual(r.total, term("total"), accuracy: 1e-4 * (term("l1") + term("lambda_q") * (term("h_ps") + term("h_cb"))))
        var worst = 0.0
        for slot in step.layout.slots {
            let running = slot.name.contains("running_")
            guard let e = want.entry((running ? "running." : "grad.") + slot.name) else {
                XCTFail("fixture lacks \(slot.name)"); continue
            }
            var ref = [Float](repeating: 0, count: e.count)
            try ref.withUnsafeMutableBufferPointer { try want.floats(e, into: $0.baseAddress!) }
            let got = running ? Array(params[slot.offset..<(slot.offset + slot.count)]) : Array(grads[slot.offset..<(slot.offset + slot.count)])
            // the depthwise bias feeds training-mode BatchNorm, which removes it: its true
            // gradient is zero, so both sides hold rounding noise; measure it on the scale of 1e-3
            let top = max(Double(ref.map(abs).max() ?? 0), slot.name.hasSuffix("depthwise_conv.bias") ? 1e-3 : 1e-12)
            let err = zip(got, ref).map { abs(Double($0) - Double($1)) }.max() ?? 0
            worst = max(worst, err / top)
            XCTAssertLessThanOrEqual(err / top, 1e-4, "\(slot.name): max |Δ| \(err) against max |g| \(top)")
        }
        print("training step vs PyTorch (straight-through \(straightThrough)): worst relative gradient error \(worst)")
        return (params, grads, step)
    }

    /// The weights after clipping, one AdamW step (lr 1e-3, betas 0.9/0.99, decay 1e-4
    /// on tensors of two or more dimensions) and the EMA (0.99), from the Swift gradients.
    func testWeightsAfterOneAdamWStepMatchPyTorch() throws {
        let path = Repo.fixture("model/expected_micro18_adamw.safetensors").path
        let (trained, grads0, step) = try run(straightThrough: true, expected: "expected_micro18_grads.safetensors")
        let initial = try Checkpoint(path: Repo.fixture("model/micro18.safetensors").path).weights
        var train = TrainConfig()
        train.lr = 1e-3; train.ema = 0.99
        let state = TrainingState(run: RunConfig(model: step.config, train: train), weights: trained)
        var grads = grads0
        // the running statistics were updated by the forward; the EMA starts from the initial weights
        state.ema = initial
        for slot in step.layout.slots where slot.name.contains("running_") {
            for i in slot.offset..<(slot.offset + slot.count) { state.ema[i] = trained[i] }
        }
        XCTAssertEqual(state.run.train.clip, 1)
        let norm = grads.withUnsafeMutableBufferPointer { state.apply(grads: $0.baseAddress!, lr: 1e-3) }
        let want = try SafeTensors(path: path)
        XCTAssertEqual(Double(norm), Double(want.metadata["grad_norm"] ?? "") ?? .nan, accuracy: 1e-4 * Double(norm))
        var worst = 0.0
        for slot in step.layout.slots where !slot.name.contains("running_") {
            for (prefix, values) in [("after.", state.params), ("ema.", state.ema)] {
                guard let e = want.entry(prefix + slot.name) else { XCTFail("fixture lacks \(prefix + slot.name)"); continue }
                var ref = [Float](repeating: 0, count: e.count)
                try ref.withUnsafeMutableBufferPointer { try want.floats(e, into: $0.baseAddress!) }
                // Structural zeros: the depthwise bias (removed by BatchNorm) and the key bias of
                // attention (a constant per query row, removed by the softmax) have a true gradient of
                // 0, so both sides hold rounding noise, which Adam's first step scales up to ±lr.
                let w = step.config.width
                let noise: Range<Int> = slot.name.hasSuffix("depthwise_conv.bias") ? 0..<slot.count
                    : slot.name.hasSuffix("attn.in_proj_bias") ? w..<(2 * w) : 0..<0
                var err = 0.0
                for (i, (g, r)) in zip(values[slot.offset..<(slot.offset + slot.count)], ref).enumerated() {
                    let d = abs(Double(g) - Double(r))
                    if noise.contains(i) { XCTAssertLessThanOrEqual(d, 2e-3 * 1.0001, "\(prefix + slot.name)[\(i)]") } else { err = max(err, d) }
                }
                let top = max(Double(ref.map(abs).max() ?? 0), 1e-3)
                worst = max(worst, err / top)
                XCTAssertLessThanOrEqual(err / top, 1e-4, "\(prefix + slot.name): max |Δ| \(err) against max |w| \(top)")
            }
        }
        print("AdamW step vs PyTorch: worst relative weight error \(worst)")
    }

    func testOneStepMatchesPyTorchAutograd() throws {
        try run(straightThrough: true, expected: "expected_micro18_grads.safetensors")
        try run(straightThrough: false, expected: "expected_micro18_grads_nostraight.safetensors")
    }
}
