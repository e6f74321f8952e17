import BSQAudio
import Foundation
import TestSupport
import XCTest

/// bsq-encode and bsq-decode against the independent PyTorch module of
/// docs/model.md (Tests/Fixtures/model/reference_model.py; fixtures made by
/// make_model_fixtures.py): the encoder's vectors u before quantization
/// within 1e-4, identical codes (every token of the fixtures is decided by a
/// margin min_k |u_k| ≥ 1e-5, which is checked first), reconstructions
/// within 1e-3 dB.
final class ModelFixtureTests: XCTestCase {
    static let checkpoints = ["micro18", "micro18_ema", "micro18_f16", "micro36_noconv", "micro9"]
    /// The manifest's tolerances: `codes_min_abs_u` and `trace_max_abs`.
    static let margin: Float = 1e-5, traceTolerance: Float = 1e-4
    func fixture(_ name: String) -> String { Repo.fixture("model/" + name).path }

    func testPreQuantizationVectorsMatchPyTorch() throws {
        // expected_*_trace.bsqt: PyTorch's u for the first chunk of utt1
        let utt1 = try MelFrame(try decodeFrames(try Repo.fixtureData("model/mel_input.bsqt"))[0])
        for ck in Self.checkpoints {
            let trace = try decodeFrames(try Repo.fixtureData("model/expected_\(ck)_trace.bsqt"))
            XCTAssertEqual(trace.map(\.key), ["quant.u"], ck)
            let model = BSQModel(try Checkpoint(path: fixture("\(ck).safetensors")))
            let c = model.config
            XCTAssertEqual(trace[0].dims, [c.tokens, c.embed_dim], ck)
            let want: [Float] = try trace[0].values()
            var u = [Float](repeating: .nan, count: c.tokens * c.embed_dim)
            var tokens = [UInt64](repeating: 0, count: c.tokens)
            utt1.values.withUnsafeBufferPointer { mel in
                u.withUnsafeMutableBufferPointer { u in
                    tokens.withUnsafeMutableBufferPointer { model.encode(mel: mel.baseAddress!, batch: 1, tokens: $0.baseAddress!, u: u.baseAddress!) }
                }
            }
            let worst = zip(u, want).map { abs($0 - $1) }.max() ?? .nan
            XCTAssertLessThanOrEqual(worst, Self.traceTolerance, "\(ck): u max |Δ| \(worst)")
            print("model fixture \(ck): u max |Δ| \(worst)")
        }
    }

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
                XCTAssertEqual(m.count, wt.count, "\(ck) utterance \(i)")
                XCTAssertGreaterThanOrEqual(m.min() ?? 0, Self.margin, "\(ck) utterance \(i): a token near a sign flip, which float rounding may decide either way")
                XCTAssertEqual(gt, wt, "\(ck) utterance \(i)")
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
