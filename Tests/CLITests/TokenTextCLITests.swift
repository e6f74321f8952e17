import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Issue 21, "Tokens as text": `bsq-tensor to-text` writes codes as lines
/// (tsv `KEY<TAB>t0 t1 …`, or JSON Lines with the metadata), `from-text` makes
/// codes frames of such lines that `bsq-decode` decodes as it decodes the originals.
final class TokenTextCLITests: XCTestCase {
    /// A long (18 chunks, the last one partly covered) and a short utterance, encoded
    /// with the default model, whole and trimmed, and both decoded.
    struct Corpus {
        var codes: [UInt8] = [], trim: [UInt8] = [], decoded: [UInt8] = [], decodedTrim: [UInt8] = []
    }

    static let corpus: Corpus = {
        var c = Corpus()
        let wavs = ["mel/long8k_flac.flac", "mel/wav16k_mono_pcm16.wav"].map { Repo.fixture($0).path }
        let mel = try! ok("mel", ["-q"] + wavs)
        c.codes = try! ok("bsq-encode", ["-q"], stdin: mel)
        c.trim = try! ok("bsq-encode", ["-q", "--trim"], stdin: mel)
        c.decoded = try! ok("bsq-decode", ["-q"], stdin: c.codes)
        c.decodedTrim = try! ok("bsq-decode", ["-q"], stdin: c.trim)
        return c
    }()

    static func ok(_ tool: String, _ args: [String], stdin: [UInt8] = []) throws -> [UInt8] {
        let r = try Tool.run(tool, args, stdin: stdin)
        guard r.status == 0 else { throw BSQError("\(tool) \(args): \(r.stderr)") }
        return r.stdout
    }

    func ok(_ tool: String, _ args: [String], stdin: [UInt8] = []) throws -> [UInt8] {
        try TokenTextCLITests.ok(tool, args, stdin: stdin)
    }

    func lines(_ bytes: [UInt8]) -> [String] { String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init) }

    func testTSVLinesHoldTheTokensInRowMajorOrder() throws {
        let c = Self.corpus
        let codes = try decodeFrames(c.codes).map(CodesFrame.init)
        let text = lines(try ok("bsq-tensor", ["to-text"], stdin: c.codes))
        XCTAssertEqual(text.count, 2)
        for (line, f) in zip(text, codes) {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(parts.count, 2)
            XCTAssertEqual(String(parts[0]), f.key)
            XCTAssertEqual(parts[1].split(separator: " ").map { UInt64($0)! }, f.tokens)
        }
        let covered = lines(try ok("bsq-tensor", ["to-text", "--covered"], stdin: c.codes))
        XCTAssertEqual(covered, lines(try ok("bsq-tensor", ["to-text"], stdin: c.trim)), "the covered tokens are those --trim keeps")
        XCTAssertEqual(covered[0].split(separator: "\t")[1].split(separator: " ").count, 1126 * 8, "⌈18001 / 16⌉ time patches of 8")

        // tsv back to codes: the same tokens; frames time_patches × 16 unless given; no model unless given
        let back = try decodeFrames(try ok("bsq-tensor", ["from-text"], stdin: Array((text.joined(separator: "\n") + "\n").utf8)))
        XCTAssertEqual(try back.map { try CodesFrame($0).tokens }, codes.map(\.tokens))
        XCTAssertEqual(back.map(\.dims), codes.map(\.frame.dims))
        XCTAssertEqual(back.map { $0.meta["frames"]?.int }, [1152 * 16, 64 * 16])
        XCTAssertNil(back[0].meta["model"])
        XCTAssertEqual(back[0].meta.keys, ["kind", "key", "mel", "axes", "frames", "covered_time_patches", "bits"])
    }

    func testJSONLinesRoundTripExactlyAndDecodeIdentically() throws {
        let c = Self.corpus
        let jsonl = try ok("bsq-tensor", ["to-text", "--format", "jsonl"], stdin: c.codes)
        let first = try JSONValue.parse(lines(jsonl)[0])
        XCTAssertEqual(first.object?.keys, ["key", "source", "mel", "frames", "covered_time_patches", "bits", "model", "shape", "tokens"])
        XCTAssertEqual(first["shape"], [1152, 8])
        XCTAssertEqual(first["frames"], 18001)
        XCTAssertEqual(first["covered_time_patches"], 1126)
        XCTAssertEqual(first["tokens"]?.array?.count, 1152 * 8)
        let back = try ok("bsq-tensor", ["from-text", "--format", "jsonl"], stdin: jsonl)
        XCTAssertEqual(back, c.codes, "jsonl gives back the codes byte for byte")
        XCTAssertEqual(try ok("bsq-decode", ["-q"], stdin: back), c.decoded)

        // the covered tokens alone: the --trim codes, and their decoding
        let covered = try ok("bsq-tensor", ["to-text", "--format", "jsonl", "--covered"], stdin: c.codes)
        XCTAssertEqual(try JSONValue.parse(lines(covered)[0])["shape"], [1126, 8])
        let trimmed = try ok("bsq-tensor", ["from-text", "--format", "jsonl"], stdin: covered)
        XCTAssertEqual(trimmed, c.trim)
        XCTAssertEqual(try ok("bsq-decode", ["-q"], stdin: trimmed), c.decodedTrim)
    }

    func testTSVDecodesToTheSameMel() throws {
        let c = Self.corpus
        let original = try decodeFrames(c.decoded)[0], trimmed = try decodeFrames(c.decodedTrim)[0]
        let long = try ok("bsq-tensor", ["cat", "--key", "long8k_flac"], stdin: c.codes)
        for (covered, want) in [(false, original), (true, trimmed)] {
            let tsv = try ok("bsq-tensor", ["to-text"] + (covered ? ["--covered"] : []), stdin: long)
            // without a model (bsq-decode takes codes that name none), and with the default one
            for model in [[], ["-m", "default"]] {
                let codes = try ok("bsq-tensor", ["from-text", "--frames", "18001"] + model, stdin: tsv)
                let f = try XCTUnwrap(try decodeFrames(codes).first)
                XCTAssertEqual(f.meta["model"], model.isEmpty ? nil : try decodeFrames(long)[0].meta["model"])
                XCTAssertEqual(f.meta["covered_time_patches"], 1126)
                let mel = try decodeFrames(try ok("bsq-decode", ["-q"], stdin: codes))
                XCTAssertEqual(mel.map(\.dims), [[18001, 128]])
                XCTAssertEqual(mel.first?.payload, want.payload, "covered \(covered), model \(model)")
            }
        }
        // a model named by hand, and Kaldi's KEY t0 t1 … with a space
        let sha = String(repeating: "ab", count: 32)
        let named = try decodeFrames(try ok("bsq-tensor", ["from-text", "--model-name", "mine", "--model-sha256", sha],
                                            stdin: Array("utt 1 2 3 4 5 6 7 8\r\n\n".utf8)))
        XCTAssertEqual(named.map(\.key), ["utt"])
        XCTAssertEqual(named[0].meta["model"], ["name": "mine", "sha256": .string(sha)])
    }

    func testBadLinesAreOneLineErrorsAndWriteNothing() throws {
        let good = "a\t1 2 3 4 5 6 7 8\n"
        let cases: [(String, [String], String)] = [
            (good + "b\t1 2 3 4 5 6 7 262144\n", [], "-:2: token 8 (262144) does not fit in 18 bits"),
            (good + "b\t1 2 3 4 5 6 7\n", [], "-:2: 7 tokens do not make whole time patches of 8"),
            (good + "b\t1 2 3 x4 5 6 7 8\n", [], "-:2: token 4 (\"x4\") is not a decimal integer"),
            (good + "b\t1 2 3 4 5 6 7 -8\n", [], "-:2: token 8 (\"-8\") is not a decimal integer"),
            (good + "\t1 2 3 4 5 6 7 8\n", [], "-:2: no key before the tokens"),
            (good + "b\n", [], "-:2: no tokens"),
            ("{\"tokens\":[1,2,3,4,5,6,7,8]}\n", ["--format", "jsonl"], "-:1: no \"key\""),
            ("{\"key\":\"a\",\"tokens\":[1,2,3,4,5,6,7,1e9]}\n", ["--format", "jsonl"], "-:1: token 8 (1000000000) does not fit in 18 bits"),
            ("{\"key\":\"a\",\"tokens\":[1,2,3,4,5,6,7,8],\"shape\":[3,8]}\n", ["--format", "jsonl"], "-:1: \"shape\" [3, 8] holds 24 tokens"),
            ("{\"key\":\"a\",\"tokens\":[1,2,3,4,5,6,7,8]\n", ["--format", "jsonl"], "-:1: not JSON"),
            ("{\"key\":\"a\\tb\",\"tokens\":[1,2,3,4,5,6,7,8]}\n", ["--format", "jsonl"], "-:1: key \"a\\tb\" holds a tab"),
            ("{\"key\":\"a\",\"tokens\":[1,2,3,4,5,6,7,8]}\n", [], "give --format jsonl"),
            ("{\"key\":\"a\",\"mel\":{\"sam\":true},\"tokens\":[1,2,3,4,5,6,7,8]}\n", ["--format", "jsonl"],
             "-:1: metadata mel.hop_length must be an integer > 0"),   // the token-text fuzzer's finding: a frame no tool took
            (good, ["--frames", "17"], "-:1: 17 frames take 2 time patches of 16, the line has 1"),
            (good, ["--bits", "65"], "--bits must be from 1 to 64"),
            (good, ["--model-name", "x"], "--model-name and --model-sha256 go together"),
            (good, ["--model-name", "x", "--model-sha256", "123"], "--model-sha256 must be 64 hexadecimal digits"),
        ]
        for (input, args, message) in cases {
            let r = try Tool.run("bsq-tensor", ["from-text"] + args, stdin: Array(input.utf8))
            assertToolError(r, "bsq-tensor", contains: message)
            XCTAssertTrue(r.stdout.isEmpty, "nothing written for \(message)")
        }
        // the file and line are named
        let dir = TempDir()
        try (good + good + "c\t1 2\n").write(toFile: dir.path("gen.tsv"), atomically: true, encoding: .utf8)
        assertToolError(try Tool.run("bsq-tensor", ["from-text", dir.path("gen.tsv")]), "bsq-tensor",
                        contains: dir.path("gen.tsv") + ":3: 2 tokens", status: 1)
        // a line too long to be tokens
        let huge = try Tool.run("bsq-tensor", ["from-text"], stdin: Array("a\t".utf8) + [UInt8](repeating: 0x31, count: 17 << 20))
        assertToolError(huge, "bsq-tensor", contains: "-:1: line longer than 16 MiB")
    }

    func testToTextRefusesFramesThatAreNotCodes() throws {
        let mel = try Tool.run("mel", ["-q", Repo.fixture("mel/short16k_800.wav").path])
        let r = try Tool.run("bsq-tensor", ["to-text"], stdin: mel.stdout)
        assertToolError(r, "bsq-tensor", contains: "frame 0 (short16k_800): not a codes frame: kind \"mel\"", status: 1)
        XCTAssertTrue(r.stdout.isEmpty)
        let ints = try encodeFrames([Frame([UInt32(1), 2], dims: [1, 2], meta: JSONObject(["kind": "tensor", "key": "t"]))])
        assertToolError(try Tool.run("bsq-tensor", ["to-text", "--format", "jsonl"], stdin: ints), "bsq-tensor",
                        contains: "frame 0 (t): not a codes frame")
        // codes without a key get frame-NNNNNN, as to-npy names them
        var meta = JSONObject(["kind": "codes", "bits": 18, "frames": 16])
        meta["mel"] = ["sample_rate": 16000, "hop_length": 160]
        let unnamed = try encodeFrames([Frame([UInt32](repeating: 7, count: 8), dims: [1, 8], meta: meta)])
        XCTAssertEqual(String(decoding: try ok("bsq-tensor", ["to-text"], stdin: unnamed), as: UTF8.self), "frame-000000\t7 7 7 7 7 7 7 7\n")
    }
}
