import BSQAudio
import Foundation
import TestSupport
import XCTest

/// One training step of micro18 (2 chunks of utt1, step 500) against PyTorch
/// autograd on the reference module (Tests/Fixtures/model/make_grad_fixture.py):
/// loss terms, every parameter gradient and the BatchNorm running statistics.
final class TrainingFixtureTests: XCTestCase {
    func run(straightThrough: Bool, expected: String) throws {
        let path = Repo.fixture("model/" + expected).path
        guard FileManager.default.fileExists(atPath: path) else { return XCTFail("missing fixture \(expected)") }
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
    }

    func testOneStepMatchesPyTorchAutograd() throws {
        try run(straightThrough: true, expected: "expected_micro18_grads.safetensors")
        try run(straightThrough: false, expected: "expected_micro18_grads_nostraight.safetensors")
    }
}
