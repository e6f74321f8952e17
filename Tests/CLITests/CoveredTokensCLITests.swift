import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Issue "Everyday use", 3: the model's fixed chunks pad the last one; the
/// codes say how many time patches hold audio, rates count only those, and
/// `bsq-encode --trim` / `bsq-decode` give and take the covered tokens alone.
final class CoveredTokensCLITests: XCTestCase {
    func run(_ tool: String, _ args: [String], stdin: [UInt8] = []) throws -> [UInt8] {
        let r = try Tool.run(tool, args, stdin: stdin)
        XCTAssertEqual(r.status, 0, "\(tool) \(args): \(r.stderr)")
        return r.stdout
    }

    func testTrimmedCodesHoldTheCoveredTokensAndDecodeBack() throws {
        let dir = TempDir()
        let model = dir.path("tiny.safetensors")
        _ = try run("bsq-train", ["init", "--preset", "tiny", "--seed", "5", "-o", model])
        var rng = SplitMix64(seed: 9)
        func mel(_ key: String, _ t: Int) -> Frame {
            var meta = JSONObject(["kind": "mel", "key": .string(key)])
            meta["mel"] = ["sample_rate": 16000, "hop_length": 160, "n_mels": 128]
            return Frame((0..<(t * 128)).map { _ in Float(-70 * rng.uniform()) }, dims: [t, 128], meta: meta)
        }
        let input = try encodeFrames([mel("a", 2500), mel("b", 380), mel("c", 1024)])
        let full = try decodeFrames(try run("bsq-encode", ["-m", model], stdin: input)).map(CodesFrame.init)
        let trimmedBytes = try run("bsq-encode", ["-m", model, "--trim"], stdin: input)
        let trimmed = try decodeFrames(trimmedBytes).map(CodesFrame.init)
        XCTAssertEqual(full.map(\.frame.dims), [[192, 8], [64, 8], [64, 8]])
        XCTAssertEqual(full.map(\.coveredTimePatches), [157, 24, 64], "⌈frames / 16⌉")
        XCTAssertEqual(trimmed.map(\.frame.dims), [[157, 8], [24, 8], [64, 8]])
        for (f, t) in zip(full, trimmed) {
            XCTAssertEqual(Array(f.coveredTokens), t.tokens, "the trimmed codes are the covered rows")
            XCTAssertEqual(t.coveredTimePatches, t.frame.dims[0])
            XCTAssertEqual(t.frames, f.frames)
        }

        // decode completes the last chunk with the tokens of a chunk of silence, exactly
        var quiet = JSONObject(["kind": "mel", "key": "silence"])
        quiet["mel"] = ["sample_rate": 16000, "hop_length": 160, "n_mels": 128]
        let silence = try CodesFrame(try decodeFrames(try run("bsq-encode", ["-m", model], stdin: try encodeFrames(
            [Frame([Float](repeating: -80, count: 1024 * 128), dims: [1024, 128], meta: quiet)])))[0]).tokens
        var completed: [Frame] = []
        for f in full {
            var tokens = f.tokens
            for i in (f.coveredTimePatches * 8)..<tokens.count { tokens[i] = silence[i % silence.count] }
            completed.append(Frame(tokens.map { UInt32($0) }, dims: f.frame.dims, meta: f.frame.meta))
        }
        let fromTrimmed = try run("bsq-decode", ["-m", model], stdin: trimmedBytes)
        XCTAssertEqual(fromTrimmed, try run("bsq-decode", ["-m", model], stdin: try encodeFrames(completed)))
        XCTAssertEqual(try decodeFrames(fromTrimmed).map(\.dims), [[2500, 128], [380, 128], [1024, 128]])

        // rates count the covered tokens: the same figures from full and trimmed codes
        let ref = dir.path("ref.mel"), hyp = dir.path("hyp.mel")
        try Data(input).write(to: URL(fileURLWithPath: ref))
        try Data(fromTrimmed).write(to: URL(fileURLWithPath: hyp))
        for (name, bytes) in [("full", try encodeFrames(full.map(\.frame))), ("trimmed", trimmedBytes)] {
            try Data(bytes).write(to: URL(fileURLWithPath: dir.path(name)))
            let rows = try String(decoding: try run("spec-metrics", ["--json", "--codes", dir.path(name), ref, hyp]), as: UTF8.self)
                .split(separator: "\n").map { try JSONValue.parse(String($0)) }
            XCTAssertEqual(rows.compactMap { $0["codes"]?["tokens"]?.int }, [1256, 192, 512, 1960], name)
            let overall = try XCTUnwrap(rows.last?["codes"])
            XCTAssertEqual(overall["bits_per_second"]?.number ?? 0, 1960.0 * 18 / 39.04, accuracy: 1e-6, name)
        }

        // --timing reports the utterances' audio (39.04 s), not the 5 chunks' 51.2 s
        let timing = try Tool.run("bsq-encode", ["-m", model, "--timing", "-o", "/dev/null"], stdin: input).stderr
        let numbers = timing.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        // "bsq-encode: 5 chunks, batch 4, N threads: X ms per chunk, Y GFLOP/s, Z s of audio per s"
        XCTAssertEqual(numbers.count, 6, timing)
        let (chunks, ms, perSecond) = (numbers[0], numbers[3], numbers[5])
        XCTAssertEqual(chunks, 5)
        XCTAssertEqual(perSecond * chunks * ms / 1000, 39.04, accuracy: 39.04 * 0.02 + 0.5 * chunks * ms / 1000, timing)
    }

    func testCodesThatCoverTooFewFramesAreRefused() throws {
        let dir = TempDir()
        let model = dir.path("tiny.safetensors")
        _ = try run("bsq-train", ["init", "--preset", "tiny", "--seed", "5", "-o", model])
        var meta = JSONObject(["kind": "mel", "key": "a"])
        meta["mel"] = ["sample_rate": 16000, "hop_length": 160, "n_mels": 128]
        let codes = try CodesFrame(try decodeFrames(try run("bsq-encode", ["-m", model, "--trim"], stdin: try encodeFrames(
            [Frame([Float](repeating: -30, count: 500 * 128), dims: [500, 128], meta: meta)])))[0])
        XCTAssertEqual(codes.frame.dims, [32, 8])
        let short = Frame(Array(try codes.frame.values(as: UInt32.self)[0..<(20 * 8)]), dims: [20, 8], meta: codes.frame.meta)
        let r = try Tool.run("bsq-decode", ["-m", model], stdin: try encodeFrames([short]))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("bsq-decode: ") && r.stderr.contains("'frames' 500 does not fit 20 time patches"), r.stderr)
    }
}
