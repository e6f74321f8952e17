import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `bsq-encode` and `bsq-decode` without `-m` use the kit's trained model and say so.
final class DefaultModelCLITests: XCTestCase {
    func testEncodeAndDecodeWithoutAModelUseTheDefault() throws {
        let dir = TempDir()
        let mel = dir.path("a.mel")
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", mel, Repo.fixture("mel/long8k_flac.flac").path]).status, 0)
        let enc = try Tool.run("bsq-encode", ["-o", dir.path("a.codes"), mel])
        XCTAssertEqual(enc.status, 0, enc.stderr)
        let info = try Tool.run("bsq-tensor", ["info", "--json", dir.path("a.codes")])
        let meta = try JSONValue.parse(info.stdoutText.split(separator: "\n").first.map(String.init) ?? "")
        let model = meta["meta"]?["model"] ?? meta["model"]
        XCTAssertEqual(model?["name"]?.string, "bsq-audio-tiny18", info.stdoutText)
        XCTAssertEqual(model?["default"]?.bool, true, info.stdoutText)
        let sha = try Data(contentsOf: URL(fileURLWithPath: try DefaultModelCLITests.shipped())).withUnsafeBytes { SHA256.hex($0) }
        XCTAssertEqual(model?["sha256"]?.string, sha)
        let metrics = try Tool.shell("bsq-decode '\(dir.path("a.codes"))' | spec-metrics --json '\(mel)' -")
        XCTAssertEqual(metrics.status, 0, metrics.stderr)
        let overall = try JSONValue.parse(String(metrics.stdoutText.split(separator: "\n").last ?? ""))
        // speech mixed with glides and noise bursts, none of it in the training corpus
        XCTAssertLessThan(overall["mae"]?.number ?? .infinity, 3.5, metrics.stdoutText)  // 2.03 dB measured (shipped model)
    }

    func testAMissingDefaultModelIsOneLine() throws {
        let r = try Tool.run("bsq-encode", [Repo.fixture("model/mel_input.bsqt").path], env: ["BSQ_DEFAULT_MODEL": "/nonexistent/model.safetensors"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.hasPrefix("bsq-encode: no model given (-m) and the default model is not installed"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1)
        XCTAssertTrue(r.stdout.isEmpty)
    }

    /// The committed model file.
    static func shipped() throws -> String { Repo.root.appendingPathComponent("Sources/BSQAudio/Resources/" + DefaultModel.fileName).path }
}

/// The vocoder shipped beside the default model: found from the build tree,
/// used by mel2wav for the frames bsq-decode makes, and better than
/// Griffin-Lim there on a clip it never heard.
final class DefaultVocoderCLITests: XCTestCase {
    func testTheShippedVocoderRendersDecodedFrames() throws {
        let dir = TempDir()
        let clip = Repo.fixture("mel/flac16k_stereo.flac").path
        let made = try Tool.shell("mel -q '\(clip)' | bsq-encode | bsq-decode > '\(dir.path("a.rec.mel"))' && sox -V1 '\(clip)' -c 1 -b 16 '\(dir.path("a.wav"))'")
        XCTAssertEqual(made.status, 0, made.stderr)
        let auto = try Tool.run("mel2wav", ["-o", dir.path("auto.wav"), dir.path("a.rec.mel")])
        XCTAssertEqual(auto.status, 0, auto.stderr)
        XCTAssertEqual(auto.stderr, "", "no warning: the vocoder is installed")
        let explicit = try Tool.run("mel2wav", ["--vocoder", "default", "-o", dir.path("default.wav"), dir.path("a.rec.mel")])
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        XCTAssertEqual(try Repo.read(dir.path("auto.wav")), try Repo.read(dir.path("default.wav")))
        let gl = try Tool.run("mel2wav", ["--vocoder", "griffin-lim", "-o", dir.path("gl.wav"), dir.path("a.rec.mel")])
        XCTAssertEqual(gl.status, 0, gl.stderr)
        func stoi(_ hyp: String) throws -> Double {
            let r = try Tool.run("wav-metrics", ["--json", dir.path("a.wav"), dir.path(hyp)])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try JSONValue.parse(String(r.stdoutText.split(separator: "\n").last ?? ""))["stoi"]?.number ?? .nan
        }
        let (voc, grif) = (try stoi("auto.wav"), try stoi("gl.wav"))
        XCTAssertGreaterThan(voc, grif, "the vocoder \(voc) against Griffin-Lim \(grif) from the same codes")
    }
}
