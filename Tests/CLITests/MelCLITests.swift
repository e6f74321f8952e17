import BSQAudio
import Foundation
import TestSupport
import XCTest

final class MelCLITests: XCTestCase {
    func melFrames(_ r: ToolResult, file: StaticString = #filePath, line: UInt = #line) throws -> [Frame] {
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        return try decodeFrames(r.stdout)
    }

    func testOneFileGivesLibrosaShapedFrameWithMetadata() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 2.5, rate: 16000), rate: 16000, to: dir.path("a.wav"))
        let r = try Tool.run("mel", [dir.path("a.wav")])
        XCTAssertEqual(r.stderr, "", "one file: nothing on stderr")
        let f = try melFrames(r)
        XCTAssertEqual(f.count, 1)
        XCTAssertEqual(f[0].dtype, .f32)
        XCTAssertEqual(f[0].dims, [251, 128])
        XCTAssertEqual(f[0].key, "a")
        XCTAssertEqual(f[0].kind, "mel")
        XCTAssertEqual(f[0].meta["source"]?.string, dir.path("a.wav"))
        XCTAssertEqual(f[0].meta["axes"], ["time", "mel"])
        let m = f[0].meta["mel"]!
        XCTAssertEqual(m["sample_rate"]?.int, 16000)
        XCTAssertEqual(m["n_fft"]?.int, 1024)
        XCTAssertEqual(m["hop_length"]?.int, 160)
        XCTAssertEqual(m["fmax"]?.number, 8000)
        XCTAssertEqual(m["mel_scale"]?.string, "slaney")
        XCTAssertEqual(m["pad_mode"]?.string, "constant")
        XCTAssertEqual(m["db"]?["ref"]?.string, "max")
        XCTAssertEqual(m["db"]?["top_db"]?.number, 80)
        let v: [Float] = try f[0].values()
        XCTAssertEqual(v.max(), 0)
        XCTAssertEqual(v.min(), -80)
    }

    func testLosslessFormatsStereoAndStdinAgree() throws {
        let dir = TempDir()
        let y = SyntheticAudio.voice(seconds: 1.2, rate: 44100)
        try SyntheticAudio.write(y, rate: 44100, to: dir.path("m.wav"))
        // sox transcodes the same 16-bit integers (libsndfile's writers scale WAV and FLAC differently)
        XCTAssertEqual(try Tool.shell("sox '\(dir.path("m.wav"))' '\(dir.path("m.flac"))'").status, 0)
        try SoundFile.write(y.flatMap { [$0, $0] }, channels: 2, sampleRate: 44100, format: .wav16, to: dir.path("s.wav"))
        let frames = try melFrames(try Tool.run("mel", [dir.path("m.wav"), dir.path("m.flac"), dir.path("s.wav")]))
        let stdin = try melFrames(try Tool.run("mel", ["-"], stdin: try Repo.read(dir.path("m.wav"))))
        let values: [[Float]] = try (frames + stdin).map { try $0.values() }
        XCTAssertTrue(values[0] == values[1], "wav and flac decode to the same samples")
        XCTAssertTrue(values[0] == values[2], "identical channels average to the mono signal")
        XCTAssertTrue(values[0] == values[3], "stdin equals the file")
        XCTAssertEqual(stdin[0].key, "-")
        XCTAssertEqual(frames.map(\.key), ["m", "m", "s"])
    }

    func testLossyFormatsDecode() throws {
        let dir = TempDir()
        let y = SyntheticAudio.voice(seconds: 1.0, rate: 48000)
        for format in [SoundFile.Format.ogg, .opus, .mp3] {
            try SyntheticAudio.write(y, rate: 48000, format: format, to: dir.path("x.\(format.rawValue)"))
        }
        let f = try melFrames(try Tool.run("mel", ["-j", "1", dir.path("x.ogg"), dir.path("x.opus"), dir.path("x.mp3")]))
        XCTAssertEqual(f.count, 3)
        BLAS.setThreads(1)
        let ref = try MelSpectrogram(.librosa).compute(try AudioLoader.loadMono(.path(dir.path("x.ogg")), sampleRate: 16000))
        for frame in f {
            // codec delay and padding change the length by a few frames at most
            XCTAssertEqual(Double(frame.dims[0]), 101, accuracy: 6, frame.key ?? "")
            let v: [Float] = try frame.values()
            XCTAssertEqual(v.max(), 0)
        }
        XCTAssertTrue(try f[0].values(as: Float.self) == ref.values, "the tool equals the library")
    }

    func testFolderIsSearchedRecursivelyInSortedOrderWithRelativeKeys() throws {
        let dir = TempDir()
        let y = SyntheticAudio.voice(seconds: 0.3, rate: 16000)
        for p in ["corpus/84/121123/84-121123-0001.flac", "corpus/84/121123/84-121123-0000.flac",
                  "corpus/2/b.wav", "corpus/10/a.WAV", "corpus/.hidden/x.wav", "corpus/._junk.wav"] {
            try FileManager.default.createDirectory(atPath: dir.path((p as NSString).deletingLastPathComponent), withIntermediateDirectories: true)
            try SyntheticAudio.write(y, rate: 16000, format: p.hasSuffix("flac") ? .flac : .wav16, to: dir.path(p))
        }
        try "not audio".write(toFile: dir.path("corpus/README.txt"), atomically: true, encoding: .utf8)
        let r = try Tool.run("mel", ["-j", "2", dir.path("corpus")])
        let f = try melFrames(r)
        XCTAssertEqual(f.map(\.key), ["10/a", "2/b", "84/121123/84-121123-0000", "84/121123/84-121123-0001"])
        XCTAssertEqual(r.stderr, "mel: processed 4 of 4\n")
        XCTAssertEqual(try Tool.run("mel", ["-q", "-j", "2", dir.path("corpus")]).stderr, "", "-q: nothing but errors")
        let serial = try Tool.run("mel", ["-j", "1", dir.path("corpus")])
        XCTAssertEqual(serial.stdout, r.stdout, "parallel output is byte-identical to serial")
    }

    func testListsPlainAndCommonVoiceTSV() throws {
        let dir = TempDir()
        let y = SyntheticAudio.voice(seconds: 0.3, rate: 48000)
        try FileManager.default.createDirectory(atPath: dir.path("cv/clips"), withIntermediateDirectories: true)
        for n in ["common_voice_en_1", "common_voice_en_2"] {
            try SyntheticAudio.write(y, rate: 48000, format: .mp3, to: dir.path("cv/clips/\(n).mp3"))
        }
        try "client_id\tpath\tsentence\nabc\tcommon_voice_en_2.mp3\tHello.\ndef\tcommon_voice_en_1.mp3\tWorld.\n"
            .write(toFile: dir.path("cv/validated.tsv"), atomically: true, encoding: .utf8)
        let tsv = try melFrames(try Tool.run("mel", ["--list", dir.path("cv/validated.tsv")]))
        XCTAssertEqual(tsv.map(\.key), ["common_voice_en_2", "common_voice_en_1"], "list order is kept")
        try "clips/common_voice_en_1.mp3\r\n\nclips/common_voice_en_2.mp3\n".write(toFile: dir.path("cv/list.txt"), atomically: true, encoding: .utf8)
        let plain = try melFrames(try Tool.run("mel", ["--list", dir.path("cv/list.txt")]))
        XCTAssertEqual(plain.map(\.key), ["clips/common_voice_en_1", "clips/common_voice_en_2"])
        let rooted = try melFrames(try Tool.run("mel", ["--list", "-", "--root", dir.path("cv/clips")], stdin: Array("common_voice_en_1.mp3\n".utf8)))
        XCTAssertEqual(rooted.map(\.key), ["common_voice_en_1"])
        try "a\tb\nx\ty\n".write(toFile: dir.path("bad.tsv"), atomically: true, encoding: .utf8)
        assertToolError(try Tool.run("mel", ["--list", dir.path("bad.tsv")]), "mel", contains: "'path' column")
    }

    func testBadFilesAreReportedSkippedAndCounted() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 0.5, rate: 16000), rate: 16000, to: dir.path("good.wav"))
        try "garbage".write(toFile: dir.path("bad.wav"), atomically: true, encoding: .utf8)
        try SoundFile.write([], channels: 1, sampleRate: 16000, format: .wav16, to: dir.path("empty.wav"))
        let r = try Tool.run("mel", [dir.path("good.wav"), dir.path("bad.wav"), dir.path("missing.flac"), dir.path("empty.wav"), dir.path("good.wav")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(try decodeFrames(r.stdout).count, 2)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, r.stderr)
        XCTAssertTrue(lines[0].hasPrefix("mel: \(dir.path("bad.wav")): "), lines[0])
        XCTAssertEqual(lines[1], "mel: \(dir.path("missing.flac")): No such file or directory")
        XCTAssertEqual(lines[2], "mel: \(dir.path("empty.wav")): no audio samples")
        XCTAssertEqual(lines[3], "mel: processed 2 of 5")
        assertToolError(try Tool.run("mel", ["-"], stdin: Array("not audio at all".utf8)), "mel", contains: "-: ", status: 1)
        assertToolError(try Tool.run("mel", [dir.path("nothing-here")]), "mel", contains: "No such file or directory", status: 1)
    }

    func testOutputFileIsAtomic() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 0.5, rate: 16000), rate: 16000, to: dir.path("a.wav"))
        try "precious".write(toFile: dir.path("out.mel"), atomically: true, encoding: .utf8)
        let bad = try Tool.run("mel", ["-o", dir.path("out.mel"), dir.path("missing.wav")])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(try String(contentsOfFile: dir.path("out.mel"), encoding: .utf8), "precious", "a failed run leaves what was there")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path("")).sorted(), ["a.wav", "out.mel"], "no temporary left")
        let good = try Tool.run("mel", ["-o", dir.path("out.mel"), dir.path("a.wav")])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.isEmpty)
        XCTAssertEqual(try decodeFrames(try Repo.read(dir.path("out.mel"))).count, 1)
    }

    func testOptionsAreValidatedAndNamed() throws {
        let cases: [([String], String)] = [
            (["--hop-length=-3"], "--hop-length must be between 1 and --n-fft (1024) (got -3)"),
            (["--n-fft", "1"], "--n-fft must be >= 2 (got 1)"),
            (["--win-length", "2048"], "--win-length must be between 1 and --n-fft (1024) (got 2048)"),
            (["--fmax", "9000"], "--fmax must be above --fmin and at most half the sample rate (8000.0) (got 9000.0)"),
            (["--ref", "loud"], "--ref must be 'max' or a power > 0 (got loud)"),
            (["--top-db=-1"], "--top-db must be >= 0 or 'none' (got -1.0)"),
            (["--mel-scale", "bark"], "--mel-scale"),
            (["--frames", "0"], "--frames must be > 0 (got 0)"),
            (["--jobs", "0"], "--jobs must be > 0 (got 0)"),
        ]
        for (args, message) in cases {
            assertToolError(try Tool.run("mel", args + ["x.wav"]), "mel", contains: message, status: 64)
        }
    }

    func testFramesPadCropAndSeed() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 2.0, rate: 16000), rate: 16000, to: dir.path("a.wav"))
        let full: [Float] = try melFrames(try Tool.run("mel", [dir.path("a.wav")]))[0].values()
        let padded = try melFrames(try Tool.run("mel", ["--frames", "250", dir.path("a.wav")]))[0]
        let pv: [Float] = try padded.values()
        XCTAssertEqual(padded.dims, [250, 128])
        XCTAssertTrue(Array(pv[0..<(201 * 128)]) == full)
        XCTAssertTrue(pv[(201 * 128)...].allSatisfy { $0 == -80 })
        XCTAssertEqual(padded.meta["crop"]?["offset"]?.int, 0)
        XCTAssertEqual(padded.meta["crop"]?["of"]?.int, 201)
        let center: [Float] = try melFrames(try Tool.run("mel", ["--frames", "100", "--crop", "center", dir.path("a.wav")]))[0].values()
        XCTAssertTrue(center == Array(full[(50 * 128)..<(150 * 128)]))
        func randomCrop(_ seed: Int) throws -> Int {
            try melFrames(try Tool.run("mel", ["--frames", "64", "--crop", "random", "--seed", "\(seed)", dir.path("a.wav")]))[0].meta["crop"]!["offset"]!.int!
        }
        let a = try randomCrop(1), b = try randomCrop(1)
        XCTAssertEqual(a, b, "the same seed and key give the same crop")
        XCTAssertTrue(try (2...8).map(randomCrop).contains { $0 != a }, "other seeds move the crop")
    }

    func testFixedReferenceMakesChunksAgree() throws {
        let dir = TempDir()
        let y = SyntheticAudio.voice(seconds: 3.0, rate: 16000)
        let cut = 160 * 150
        try SyntheticAudio.write(y, rate: 16000, format: .wavFloat, to: dir.path("all.wav"))
        try SyntheticAudio.write(Array(y[..<cut]), rate: 16000, format: .wavFloat, to: dir.path("head.wav"))
        let opts = ["--ref", "1.0", "--top-db", "none"]
        let all: [Float] = try melFrames(try Tool.run("mel", opts + [dir.path("all.wav")]))[0].values()
        let head: [Float] = try melFrames(try Tool.run("mel", opts + [dir.path("head.wav")]))[0].values()
        // frames whose window lies inside the chunk: t·hop + n_fft/2 ≤ cut
        let inside = (cut - 512) / 160 + 1
        XCTAssertTrue(Array(head[0..<(inside * 128)]) == Array(all[0..<(inside * 128)]), "frames inside the chunk are bit-identical")
        XCTAssertTrue(Array(head[(inside * 128)...]) != Array(all[(inside * 128)..<head.count]), "edge frames see the padding")
    }

    func testTorchaudioPresetAndOptionsAreRecorded() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 1.0, rate: 22050), rate: 22050, to: dir.path("a.wav"))
        let f = try melFrames(try Tool.run("mel", ["--preset", "torchaudio", "--n-mels", "80", dir.path("a.wav")]))[0]
        XCTAssertEqual(f.dims, [101, 80])
        let m = f.meta["mel"]!
        XCTAssertEqual(m["mel_scale"]?.string, "htk")
        XCTAssertEqual(m["norm"]?.string, "none")
        XCTAssertEqual(m["pad_mode"]?.string, "reflect")
        XCTAssertEqual(m["db"]?["ref"]?.number, 1.0)
        XCTAssertEqual(m["n_mels"]?.int, 80)
        let noCenter = try melFrames(try Tool.run("mel", ["--no-center", "--hop-length", "320", "--sample-rate", "8000", dir.path("a.wav")]))[0]
        XCTAssertEqual(noCenter.dims, [(8000 - 1024) / 320 + 1, 128])
        XCTAssertEqual(noCenter.meta["mel"]?["fmax"]?.number, 4000)
    }

    func testZstdOutputDecodesToTheSameValues() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 1.0, rate: 16000), rate: 16000, to: dir.path("a.wav"))
        let plain = try melFrames(try Tool.run("mel", [dir.path("a.wav")]))[0]
        let packed = try Tool.run("mel", ["--zstd", dir.path("a.wav")])
        XCTAssertLessThan(packed.stdout.count, try FrameWriter.encode(plain).count)
        XCTAssertEqual(try melFrames(packed)[0].payload, plain.payload)
    }
}
