import BSQAudio
import XCTest

final class AdamWTests: XCTestCase {
    /// Three steps of torch.optim.AdamW(lr 1e-2, betas (0.9, 0.95), eps 1e-8, weight decay 0.05 on
    /// the first group only) after clip_grad_norm_(1.5): values printed by PyTorch 2.11.
    func testMatchesPyTorch() {
        var params: [Float] = [0.5, -1.0, 2.0, 0.0, 0.1, -0.2]
        let decay = [true, true, true, true, false, false]
        var opt = AdamW(count: 6)
        opt.beta2 = 0.95
        opt.weightDecay = 0.05
        let steps: [[Float]] = [[0.1, -0.2, 0.3, 0.4, 1.0, -1.0], [0.0, 0.5, -0.5, 1.0, 0.2, 0.3], [-1.0, 2.0, 0.1, 0.0, 0.0, -0.4]]
        let norms: [Float] = [1.5165750980377197, 1.276714563369751, 2.273763418197632]
        for (g, norm) in zip(steps, norms) {
            var grads = g
            XCTAssertEqual(AdamW.clip(&grads, count: 6, maxNorm: 1.5), norm, accuracy: 1e-6)
            params.withUnsafeMutableBufferPointer { opt.update($0.baseAddress!, grads: grads, decay: decay, lr: 1e-2) }
        }
        let want: [Float] = [0.48789796233177185, -0.9999915361404419, 1.9915536642074585, -0.026565663516521454, 0.07549003511667252, -0.18084067106246948]
        for (a, b) in zip(params, want) { XCTAssertEqual(a, b, accuracy: 2e-7) }
        XCTAssertEqual(opt.step, 3)
    }

    func testScheduleAndEMA() {
        XCTAssertEqual(AdamW.learningRate(step: 0, peak: 1e-3, floor: 1e-5, warmup: 10, total: 110), 1e-4, accuracy: 1e-12)
        XCTAssertEqual(AdamW.learningRate(step: 9, peak: 1e-3, floor: 1e-5, warmup: 10, total: 110), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(AdamW.learningRate(step: 60, peak: 1e-3, floor: 1e-5, warmup: 10, total: 110), (1e-3 + 1e-5) / 2, accuracy: 1e-12)
        XCTAssertEqual(AdamW.learningRate(step: 110, peak: 1e-3, floor: 1e-5, warmup: 10, total: 110), 1e-5, accuracy: 1e-12)
        var ema: [Float] = [1, 2]
        AdamW.updateEMA(&ema, [3, 4], count: 2, decay: 0.75)
        XCTAssertEqual(ema, [1.5, 2.5])
    }
}
