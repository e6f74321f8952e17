import BSQAudio
import Foundation
import TestSupport
import XCTest

/// bsq-encode and bsq-decode against the independent PyTorch module of
/// MODEL.md (Tests/Fixtures/model/reference_model.py; fixtures made by
/// make_model_fixtures.py): identical codes except at tokens with some
/// |u_k| < 1e-5, reconstructions within 1e-3 dB.
final class ModelFixtureTests: XCTestCase {
    static let checkpoints = ["micro18", "micro18_ema", "micro18_f16", "micro36_noconv", "micro9"]
    func fixture(_ name: String) -> String { Repo.fixture("model/" + name).path }

    func testCodesAndReconstructionsMatchPyTorch() throws {
        for ck in Self.checkpoints {
            let model = fixture("\(ck).safetensors")
            let enc = try Tool.run("bsq-encode", ["-m", model, fixture("mel_input.bsqt")])
            XCTAssertEqual(enc.status, 0, "\(ck): \(enc.stderr)")
            let got = try decodeFrames(enc.stdout)
            let want = try decodeFrames(try Repo.fixtureData("model/expected_\(ck)_codes.bsqt"))
            let margin = try decodeFrames(try Repo.fixtureData("model/expected_\(ck)_min_abs_u.bsqt"))
            XCTAssertEqual(got.count, want.count, ck)
            for (i, (g, w)) in zip(got, want).enumerated() {
                XCTAssertEqual(g.dims, w.dims, "\(ck) utterance \(i)")
                XCTAssertEqual(g.dtype, w.dtype, "\(ck) utterance \(i)")
                XCTAssertEqual(g.meta["frames"], w.meta["frames"])
                XCTAssertEqual(g.meta["model"]?["sha256"], w.meta["model"]?["sha256"], "the model is named by its file's sha256")
                let gt: [UInt64] = g.dtype == .u64 ? try g.values() : try g.values(as: UInt32.self).map(UInt64.init)
                let wt: [UInt64] = w.dtype == .u64 ? try w.values() : try w.values(as: UInt32.self).map(UInt64.init)
                let m: [Float] = try margin[i].values()
                var differing = 0
                for k in gt.indices where gt[k] != wt[k] {
                    differing += 1
                    XCTAssertLessThan(m[k], 1e-5, "\(ck) utterance \(i) token \(k) differs though its |u| margin is \(m[k])")
                }
                XCTAssertEqual(differing, 0, "\(ck): no token of these fixtures is near zero")
            }
            // decode PyTorch's own codes and compare with its reconstruction
            let dec = try Tool.run("bsq-decode", ["-m", model, fixture("expected_\(ck)_codes.bsqt")])
            XCTAssertEqual(dec.status, 0, "\(ck): \(dec.stderr)")
            let rec = try decodeFrames(dec.stdout)
            let ref = try decodeFrames(try Repo.fixtureData("model/expected_\(ck)_recon.bsqt"))
            XCTAssertEqual(rec.map(\.dims), ref.map(\.dims), ck)
            var worst: Float = 0
            for (a, b) in zip(rec, ref) {
                for (x, y) in zip(try a.values(as: Float.self), try b.values(as: Float.self)) { worst = max(worst, abs(x - y)) }
            }
            XCTAssertLessThanOrEqual(worst, 1e-3, "\(ck): reconstruction max |Δ| \(worst) dB")
            print("model fixture \(ck): codes identical, reconstruction max |Δ| \(worst) dB")
        }
    }
}
