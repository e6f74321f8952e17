import BSQAudio
import Foundation
import TestSupport
import XCTest

final class CodecCLITests: XCTestCase {
    /// A tiny-preset checkpoint and a 2.5-chunk mel stream of two utterances.
    func setUpModel(_ dir: TempDir) throws -> (model: String, mel: [UInt8]) {
        let r = try Tool.run("bsq-train", ["init", "--preset", "tiny", "--seed", "5", "-o", dir.path("tiny.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        var rng = SplitMix64(seed: 2)
        func mel(_ t: Int) -> [Float] { (0..<(t * 128)).map { i in Float(-80 * rng.uniform()) * 0.5 - 40 * Float((i / 128) % 3) / 2 } }
        var meta = JSONObject(["kind": "mel", "key": "a", "source": "a.wav"])
        meta["mel"] = ["sample_rate": 16000, "hop_length": 160, "n_mels": 128]
        var meta2 = meta
        meta2["key"] = "b"
        return (dir.path("tiny.safetensors"), try encodeFrames([Frame(mel(2500), dims: [2500, 128], meta: meta), Frame(mel(700), dims: [700, 128], meta: meta2)]))
    }

    func testEncodeDecodeRoundTripShapesAndMetadata() throws {
        let dir = TempDir()
        let (model, mel) = try setUpModel(dir)
        let enc = try Tool.run("bsq-encode", ["-m", model], stdin: mel)
        XCTAssertEqual(enc.status, 0, enc.stderr)
        let codes = try decodeFrames(enc.stdout)
        XCTAssertEqual(codes.map(\.dims), [[192, 8], [64, 8]])
        XCTAssertEqual(codes[0].dtype, .u32)
        XCTAssertEqual(codes[0].kind, "codes")
        XCTAssertEqual(codes[0].meta["frames"]?.int, 2500)
        XCTAssertEqual(codes[0].meta["bits"]?.int, 18)
        XCTAssertEqual(codes[0].meta["mel"]?["hop_length"]?.int, 160)
        XCTAssertEqual(codes[0].meta["source"]?.string, "a.wav")
        let sha = try Repo.read(model).withUnsafeBytes { SHA256.hex($0) }
        XCTAssertEqual(codes[0].meta["model"]?["sha256"]?.string, sha)
        XCTAssertEqual(codes[0].meta["model"]?["name"]?.string, "tiny")
        XCTAssertTrue(try codes[0].values(as: UInt32.self).allSatisfy { $0 < 1 << 18 })
        let dec = try Tool.run("bsq-decode", ["-m", model], stdin: enc.stdout)
        XCTAssertEqual(dec.status, 0, dec.stderr)
        let rec = try decodeFrames(dec.stdout)
        XCTAssertEqual(rec.map(\.dims), [[2500, 128], [700, 128]])
        XCTAssertEqual(rec.map(\.key), ["a", "b"])
        XCTAssertEqual(rec[0].kind, "mel")
        XCTAssertTrue(try rec[0].values(as: Float.self).allSatisfy { $0 >= -80 && $0 <= 0 })
    }

    func testBatchAndThreadsDoNotChangeTheBytes() throws {
        let dir = TempDir()
        let (model, mel) = try setUpModel(dir)
        let one = try Tool.run("bsq-encode", ["-m", model, "--batch", "1", "--threads", "1"], stdin: mel)
        let many = try Tool.run("bsq-encode", ["-m", model, "--batch", "3", "--threads", "2"], stdin: mel)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertEqual(many.status, 0, many.stderr)
        XCTAssertEqual(try decodeFrames(one.stdout).count, 2)
        XCTAssertEqual(one.stdout, many.stdout)
        let d1 = try Tool.run("bsq-decode", ["-m", model, "--batch", "1"], stdin: one.stdout)
        let d3 = try Tool.run("bsq-decode", ["-m", model, "--batch", "4", "--threads", "2", "--zstd"], stdin: one.stdout)
        XCTAssertEqual(d1.status, 0, d1.stderr)
        XCTAssertEqual(d3.status, 0, d3.stderr)
        let rec = try decodeFrames(d1.stdout)
        XCTAssertEqual(rec.map(\.dims), [[2500, 128], [700, 128]])
        XCTAssertEqual(rec.map(\.payload), try decodeFrames(d3.stdout).map(\.payload))
    }

    func testWrongInputsAreRefusedByName() throws {
        let dir = TempDir()
        let (model, mel) = try setUpModel(dir)
        let narrow = try encodeFrames([Frame([Float](repeating: -20, count: 80 * 10), dims: [10, 80], meta: JSONObject(["kind": "mel", "key": "x"]))])
        assertToolError(try Tool.run("bsq-encode", ["-m", model], stdin: narrow), "bsq-encode", contains: "frame 0 (x): 80 mel bands, the model takes 128")
        let codes = try Tool.run("bsq-encode", ["-m", model], stdin: mel).stdout
        assertToolError(try Tool.run("bsq-encode", ["-m", model], stdin: codes), "bsq-encode", contains: "expected a mel frame")
        assertToolError(try Tool.run("bsq-decode", ["-m", model], stdin: mel), "bsq-decode", contains: "expected a codes frame")
        XCTAssertEqual(try Tool.run("bsq-train", ["init", "--preset", "tiny", "--seed", "6", "-o", dir.path("other.safetensors")]).status, 0)
        assertToolError(try Tool.run("bsq-decode", ["-m", dir.path("other.safetensors")], stdin: codes), "bsq-decode", contains: "not this model; --force decodes anyway")
        XCTAssertEqual(try Tool.run("bsq-decode", ["-m", dir.path("other.safetensors"), "--force"], stdin: codes).status, 0)
        var meta = JSONObject(["kind": "mel", "key": "x"])
        meta["mel"] = ["sample_rate": 22050, "hop_length": 256]
        let other = try Tool.run("bsq-encode", ["-m", model], stdin: try encodeFrames([Frame([Float](repeating: -20, count: 1280), dims: [10, 128], meta: meta)]))
        XCTAssertEqual(other.status, 0, "a different analysis is encoded, with a warning")
        XCTAssertEqual(other.stderr, "bsq-encode: warning: frame 0 (x): mel at 22050 Hz with hop 256; the model was made for 16000 Hz with hop 160\n")
        assertToolError(try Tool.run("bsq-encode", ["-m", dir.path("missing.safetensors")], stdin: mel), "bsq-encode", contains: "No such file")
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: dir.path("junk")))
        assertToolError(try Tool.run("bsq-encode", ["-m", dir.path("junk")], stdin: mel), "bsq-encode", contains: "not a safetensors file")
        assertToolError(try Tool.run("bsq-encode", ["-m", model, "--batch", "0"], stdin: mel), "bsq-encode", contains: "--batch must be > 0", status: 64)
        assertToolError(try Tool.run("bsq-train", ["init", "--preset", "huge", "-o", dir.path("x")]), "bsq-train", contains: "--preset must be tiny, small or base", status: 64)
    }

    func testOutputFilesAreAtomic() throws {
        let dir = TempDir()
        let (model, mel) = try setUpModel(dir)
        try "keep".write(toFile: dir.path("out.codes"), atomically: true, encoding: .utf8)
        var bad = mel
        bad[bad.count - 1] ^= 0xFF
        let r = try Tool.run("bsq-encode", ["-m", model, "-o", dir.path("out.codes")], stdin: bad)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(try String(contentsOfFile: dir.path("out.codes"), encoding: .utf8), "keep")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir.path("")).contains { $0.contains(".tmp-") })
        XCTAssertEqual(try Tool.run("bsq-encode", ["-m", model, "-o", dir.path("out.codes")], stdin: mel).status, 0)
        XCTAssertEqual(try decodeFrames(try Repo.read(dir.path("out.codes"))).count, 2)
    }
}
