import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `--shard K/N` (issue 18): part K of M inputs is ⌊(K−1)·M/N⌋ ..< ⌊K·M/N⌋, so
/// `bsq-tensor cat` of parts 1…N is the whole run, byte for byte.
final class ShardCLITests: XCTestCase {
    static let wavs = ["short16k_300", "short16k_800", "wav8k_mono_pcm16", "wav16k_mono_pcm16", "short44k_stereo_1000"]

    /// Five audio files in `dir/corpus/` (named so that their sorted order is the list's).
    func corpus(_ dir: TempDir) throws -> String {
        let folder = dir.path("corpus")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (i, name) in Self.wavs.enumerated() {
            try FileManager.default.copyItem(atPath: Repo.fixture("mel/\(name).wav").path, toPath: folder + "/\(i)_\(name).wav")
        }
        return folder
    }

    /// Five mel frames in two files (two, then three frames).
    func melFiles(_ dir: TempDir) throws -> [String] {
        let folder = try corpus(dir)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { folder + "/" + $0 }
        let a = dir.path("a.mel"), b = dir.path("b.mel")
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", a] + files[0..<2]).status, 0)
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", b] + files[2...]).status, 0)
        return [a, b]
    }

    func tinyModel(_ dir: TempDir) throws -> String {
        let r = try Tool.run("bsq-train", ["init", "--preset", "tiny", "--seed", "5", "-o", dir.path("tiny.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir.path("tiny.safetensors")
    }

    /// Runs `tool` whole and in `n` parts (with -o), and checks that the parts hold
    /// the balanced counts of the five inputs and join into the whole output.
    func assertPartsJoin(_ tool: String, _ args: [String], _ inputs: [String], parts n: Int, in dir: TempDir,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let whole = try Tool.run(tool, args + inputs)
        XCTAssertEqual(whole.status, 0, whole.stderr, file: file, line: line)
        XCTAssertEqual(try decodeFrames(whole.stdout).count, 5, file: file, line: line)
        var paths: [String] = []
        for k in 1...n {
            let path = dir.path("\(tool).\(k)of\(n)")
            let r = try Tool.run(tool, args + ["--shard", "\(k)/\(n)", "-o", path] + inputs)
            XCTAssertEqual(r.status, 0, "part \(k)/\(n): \(r.stderr)", file: file, line: line)
            let frames = try decodeFrames(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            XCTAssertEqual(frames.count, k * 5 / n - (k - 1) * 5 / n, "part \(k)/\(n)", file: file, line: line)
            paths.append(path)
        }
        let joined = try Tool.run("bsq-tensor", ["cat"] + paths)
        XCTAssertEqual(joined.status, 0, joined.stderr, file: file, line: line)
        XCTAssertTrue(joined.stdout == whole.stdout, "\(tool): parts 1…\(n) joined differ from the whole run", file: file, line: line)
    }

    func testRule() {
        XCTAssertEqual((1...3).map { Shard($0, of: 3).range(of: 5) }, [0..<1, 1..<3, 3..<5])
        XCTAssertEqual((1...7).map { Shard($0, of: 7).range(of: 5).count }, [0, 1, 1, 0, 1, 1, 1])
        XCTAssertEqual(Shard(1, of: 1).range(of: 0), 0..<0)
        XCTAssertEqual(Shard(1_000_000, of: 1_000_000).range(of: Int.max / 2).upperBound, Int.max / 2)
        XCTAssertEqual(try Shard(parsing: "2/8"), Shard(2, of: 8))
    }

    func testMelPartsJoinIntoTheWholeRun() throws {
        let dir = TempDir()
        let folder = try corpus(dir)
        try assertPartsJoin("mel", ["-q"], [folder], parts: 3, in: dir)
        try assertPartsJoin("mel", ["-q"], [folder], parts: 7, in: dir)
        // the part's inputs are what the summary counts
        let r = try Tool.run("mel", ["--shard", "2/3", folder])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "mel: processed 2 of 2\n")
        // an empty part: an empty stream, exit 0
        let empty = try Tool.run("mel", ["--shard", "1/7", folder])
        XCTAssertEqual(empty.status, 0, empty.stderr)
        XCTAssertEqual(empty.stdout, [])
        XCTAssertEqual(empty.stderr, "")
    }

    func testEncodeAndDecodePartsJoinIntoTheWholeRun() throws {
        let dir = TempDir()
        let model = try tinyModel(dir)
        let mels = try melFiles(dir)
        try assertPartsJoin("bsq-encode", ["-q", "-m", model], mels, parts: 3, in: dir)
        try assertPartsJoin("bsq-encode", ["-q", "-m", model, "--trim"], mels, parts: 7, in: dir)
        let codes = dir.path("all.codes")
        XCTAssertEqual(try Tool.run("bsq-encode", ["-q", "-m", model, "-o", codes] + mels).status, 0)
        try assertPartsJoin("bsq-decode", ["-q", "-m", model], [codes], parts: 3, in: dir)
        try assertPartsJoin("bsq-decode", ["-q", "-m", model], [codes], parts: 7, in: dir)
        // to standard output as well; an empty part writes nothing
        let empty = try Tool.run("bsq-decode", ["-q", "-m", model, "--shard", "4/7", codes])
        XCTAssertEqual(empty.status, 0, empty.stderr)
        XCTAssertEqual(empty.stdout, [])
    }

    func testMel2WavPartsWriteTheWholeRunsFiles() throws {
        let dir = TempDir()
        let mels = try melFiles(dir)
        let args = ["-q", "--vocoder", "griffin-lim", "--iters", "2"]
        let whole = try Tool.run("mel2wav", args + ["-o", (dir.path("whole") + "/")] + mels)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path("whole")).sorted()
        XCTAssertEqual(names.count, 5)
        for n in [3, 7] {
            let out = dir.path("parts\(n)") + "/"
            for k in 1...n {
                let r = try Tool.run("mel2wav", args + ["--shard", "\(k)/\(n)", "-o", out] + mels)
                XCTAssertEqual(r.status, 0, "part \(k)/\(n): \(r.stderr)")
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), names)
            for name in names {
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + name)),
                               try Data(contentsOf: URL(fileURLWithPath: (dir.path("whole") + "/") + name)), name)
            }
        }
        let part = try Tool.run("mel2wav", ["--vocoder", "griffin-lim", "--iters", "2", "--shard", "3/3", "-o", dir.path("p") + "/"] + mels)
        XCTAssertEqual(part.status, 0, part.stderr)
        XCTAssertEqual(part.stderr, "mel2wav: processed 2 of 2\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path("p")).count, 2)
    }

    func testBadShardsAreOneLineUsageErrors() throws {
        let dir = TempDir()
        let folder = try corpus(dir)
        let cases = [("3/2", "--shard 3/2: K must be in 1...2"), ("0/4", "--shard 0/4: K must be in 1...4"),
                     ("1/0", "--shard 1/0: N must be in 1...1000000"), ("1/1000001", "N must be in 1...1000000"),
                     ("2", "--shard 2: expected K/N"), ("a/b", "expected K/N"), ("1/2/3", "expected K/N"),
                     ("-1/2", "expected K/N"), (" 1/2", "expected K/N")]
        for (value, message) in cases {
            for tool in ["mel", "bsq-encode", "bsq-decode", "mel2wav"] {
                let r = try Tool.run(tool, ["--shard=\(value)", tool == "mel" ? folder : dir.path("x.mel")])
                assertToolError(r, tool, contains: message, status: 64)
            }
        }
    }

    func testFrameToolsRefuseStandardInput() throws {
        let dir = TempDir()
        let mels = try melFiles(dir)
        let stdin = Array(try Data(contentsOf: URL(fileURLWithPath: mels[0])))
        for tool in ["bsq-encode", "bsq-decode"] {
            for operands in [[], ["-"], [mels[1], "-"]] {
                assertToolError(try Tool.run(tool, ["--shard", "1/2"] + operands, stdin: stdin), tool,
                                contains: "--shard 1/2: standard input cannot be read twice", status: 64)
            }
        }
        assertToolError(try Tool.run("mel2wav", ["--shard", "1/2", "-o", dir.path("out") + "/"], stdin: stdin), "mel2wav",
                        contains: "--shard 1/2: standard input cannot be read twice", status: 64)
        assertToolError(try Tool.run("mel2wav", ["--shard", "1/2", "-o", dir.path("one.wav")] + mels), "mel2wav",
                        contains: "--shard 1/2 needs -o DIR", status: 64)
        // a pipe named as a file cannot be counted, then read
        let piped = try Tool.shell("cat \(mels[0]) | bsq-encode -q --shard 1/1 /dev/stdin > /dev/null")
        assertToolError(piped, "bsq-encode", contains: "/dev/stdin cannot be read twice")
        // mel splits its inputs, so its standard input is one input like another
        let wav = try Repo.fixtureData("mel/short16k_300.wav")
        let one = try Tool.run("mel", ["--shard", "1/1", "-"], stdin: wav)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertEqual(try decodeFrames(one.stdout).count, 1)
    }
}
