import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Masked pre-training (SimMIM style): one step of micro18 with a mask token,
/// 6 of each chunk's 16 tokens masked, the L1 over all patches and over the
/// masked ones, against PyTorch autograd (Tests/Fixtures/model/make_mask_fixture.py);
/// and the seeded masks a run draws.
final class MaskedTrainingTests: XCTestCase {
    func testOneMaskedStepMatchesPyTorch() throws {
        let want = try SafeTensors(path: Repo.fixture("model/expected_micro18_mask.safetensors").path)
        let ck = try Checkpoint(path: Repo.fixture("model/micro18.safetensors").path)
        var c = ck.config
        c.mask_token = true
        let layout = ParameterLayout(c)
        XCTAssertEqual(layout.slots[1].name, "encoder.mask_token")
        let plain = Dictionary(uniqueKeysWithValues: ck.layout.slots.map { ($0.name, $0) }), weights = ck.weights
        var initial = [Float](repeating: 0, count: layout.count)
        for s in layout.slots {
            let values = s.name == "encoder.mask_token" ? try want.floats(named: "init.encoder.mask_token")
                : Array(weights[plain[s.name]!.offset..<(plain[s.name]!.offset + s.count)])
            initial.replaceSubrange(s.offset..<(s.offset + s.count), with: values)
        }
        let mask = try want.floats(named: "mask").map { $0 != 0 }
        XCTAssertEqual(mask.filter { $0 }.count, 12)
        let frame = try decodeFrames(try Repo.fixtureData("model/mel_input.bsqt"))[0]
        let mel = Array(try frame.values(as: Float.self)[0..<(2 * c.frames * c.n_mels)])
        for variant in ["all", "masked"] {
            let meta = { (k: String) in Double(want.metadata["\(variant)_\(k)"] ?? "") ?? .nan }
            let step = TrainingStep(config: c, batch: 2, threads: 2)
            step.maskedLossOnly = variant == "masked"
            var params = initial, grads = [Float](repeating: 0, count: layout.count)
            let r = step.run(params: &params, grads: &grads, mel: mel, step: 500, mask: mask)
            XCTAssertEqual(r.l1, meta("l1"), accuracy: 1e-4 * meta("l1"), variant)
            XCTAssertEqual(r.total, meta("total"), accuracy: 1e-4 * meta("total"), variant)
            var worst = 0.0
            for s in layout.slots where !s.name.contains("running_") {
                let ref = try want.floats(named: "\(variant).grad." + s.name), got = grads[s.offset..<(s.offset + s.count)]
                let err = zip(got, ref).map { abs(Double($0) - Double($1)) }.max() ?? 0
                if s.name.hasSuffix("depthwise_conv.bias") {   // removed by BatchNorm: true gradient 0, float32 noise on both sides
                    XCTAssertLessThanOrEqual(err, 1e-5, "\(variant) \(s.name)")
                    continue
                }
                let top = max(Double(ref.map(abs).max() ?? 0), 1e-12)
                worst = max(worst, err / top)
                XCTAssertLessThanOrEqual(err / top, 1e-4, "\(variant) \(s.name): max |Δ| \(err) against max \(top)")
            }
            print("masked training step (\(variant)) vs PyTorch: worst relative gradient error \(worst)")
        }
    }

    /// ⌊ratio·N⌋ distinct tokens per sample, from the seed and the sample's index only.
    func testMasksDependOnTheSeedAndTheSampleOnly() throws {
        var c = ModelConfig()
        c.frames = 128; c.mask_token = true                     // 8 × 8 = 64 tokens
        let data = try TrainingData(examples: [.mel(values: [Float](repeating: -40, count: 128 * 128), frames: 128, key: "a")],
                                    model: c, seed: 7, specAugment: nil)
        let a = data.masks(step: 3, size: 2, ratio: 0.4)
        XCTAssertEqual(a.count, 2 * 64)
        XCTAssertEqual(a[0..<64].filter { $0 }.count, 25)
        XCTAssertEqual(a[64..<128].filter { $0 }.count, 25)
        XCTAssertNotEqual(Array(a[0..<64]), Array(a[64..<128]))
        // sample 7 is the second of step 3 at batch 2 and the first of step 7 at batch 1
        XCTAssertEqual(Array(a[64..<128]), data.masks(step: 7, size: 1, ratio: 0.4))
        XCTAssertEqual(data.masks(step: 3, size: 2, ratio: 0), [Bool](repeating: false, count: 128))
    }
}
