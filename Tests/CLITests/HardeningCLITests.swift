import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Hostile and broken inputs (issue "Hardened"): each case once crashed,
/// hung, wrote garbage or lost something; now each gets a one-line error or
/// a documented treatment, and nothing is left behind.
final class HardeningCLITests: XCTestCase {
    func assertOneLineError(_ r: ToolResult, _ tool: String, _ fragment: String, status: Int32 = 1,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix(tool + ": ") && r.stderr.contains(fragment), "\(tool): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
    }

    /// A. Truncated Ogg Vorbis files (a frame count from a broken header) decode what is there or fail cleanly, alone or in a batch.
    func testTruncatedOggNeverAbortsABatch() throws {
        let dir = TempDir()
        let ogg = try Repo.fixtureData("mel/ogg_vorbis44k_stereo.ogg")
        try FileManager.default.createDirectory(atPath: dir.path("d"), withIntermediateDirectories: true)
        let cuts = [60, 200, 4000, 9818, ogg.count - 1000]
        for n in cuts { try Data(ogg[0..<n]).write(to: URL(fileURLWithPath: dir.path("d/cut\(n).ogg"))) }
        try FileManager.default.copyItem(atPath: Repo.fixture("mel/short16k_800.wav").path, toPath: dir.path("d/good.wav"))
        let r = try Tool.run("mel", ["-o", dir.path("out.mel"), dir.path("d")])
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        XCTAssertTrue(r.status == 0 || r.status == 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("of \(cuts.count + 1)"), "the batch reports its count: \(r.stderr)")
        let frames = try decodeFrames(try Repo.read(dir.path("out.mel")))
        XCTAssertTrue(frames.contains { $0.meta["key"]?.string == "good" }, "the good file is in the output")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).contains { $0.contains(".tmp-") })
    }

    /// B. mel2wav bounds the analysis of frame metadata before allocating.
    func testMel2WavRefusesAnalysesBeyondTheLimits() throws {
        let dir = TempDir()
        for (hop, nfft, message) in [(2_147_483_648, 1024, "mel.hop_length must be between 1 and mel.n_fft (1024)"),
                                     (16_777_216, 1024, "mel.hop_length must be between 1 and mel.n_fft"),
                                     (1024, 16_777_216, "mel.n_fft must be <= 65536")] {
            var meta = JSONObject()
            meta["kind"] = "mel"
            meta["mel"] = ["sample_rate": 16000, "hop_length": JSONValue(hop), "n_fft": JSONValue(nfft), "n_mels": 128]
            let frame = try FrameWriter.encode(Frame([Float](repeating: -40, count: 16 * 128), dims: [16, 128], meta: meta))
            let r = try Tool.run("mel2wav", ["-o", dir.path("x.wav"), "-"], stdin: frame)
            assertOneLineError(r, "mel2wav", message)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("x.wav")))
        }
    }

    /// C. Model sizes are bounded in configurations and in checkpoints, before anything is allocated.
    func testModelSizesAreBounded() throws {
        let dir = TempDir()
        let train = try Tool.run("bsq-train", ["train", "--set", "model.frames=65536", "-o", dir.path("run"), Repo.fixture("mel/short16k_800.wav").path])
        assertOneLineError(train, "bsq-train", "frames must be in 1...16384 (got 65536)", status: 64)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("run")))
        var config = try JSONValue.parse(ModelConfig().json).object!
        config["frames"] = 1_048_576
        let none: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] = []
        try SafeTensors.write(to: dir.path("huge.safetensors"), metadata: [("config", JSONValue.object(config).serialized())], tensors: none)
        let mel = try Tool.run("mel", ["-q", Repo.fixture("mel/short16k_800.wav").path])
        let r = try Tool.run("bsq-encode", ["-m", dir.path("huge.safetensors")], stdin: mel.stdout)
        assertOneLineError(r, "bsq-encode", "frames must be in 1...16384 (got 1048576)")
    }

    /// D. -o writes through devices and FIFOs and follows symbolic links, never replacing them.
    func testOutputsWriteThroughSpecialFilesAndLinks() throws {
        let dir = TempDir()
        let clip = Repo.fixture("mel/short16k_800.wav").path
        let plain = try Tool.run("mel", ["-q", clip]).stdout
        // a symbolic link: its target gets the output, the link stays a link
        FileManager.default.createFile(atPath: dir.path("target.mel"), contents: Data("old".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir.path("link.mel"), withDestinationPath: dir.path("target.mel"))
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("link.mel"), clip]).status, 0)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir.path("link.mel")), dir.path("target.mel"))
        XCTAssertEqual(try Repo.read(dir.path("target.mel")), plain)
        // a character device stays one
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", "/dev/null", clip]).status, 0)
        var st = stat()
        XCTAssertEqual(stat("/dev/null", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR)
        // a FIFO's reader gets the frames
        XCTAssertEqual(mkfifo(dir.path("fifo"), 0o644), 0)
        let r = try Tool.shell("cat \(dir.path("fifo")) > \(dir.path("got.mel")) & mel -q -o \(dir.path("fifo")) \(clip); wait")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Repo.read(dir.path("got.mel")), plain)
        XCTAssertEqual(lstat(dir.path("fifo"), &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
    }

    /// E. Standard input that is not audio fails at once (it used to be read without bound first).
    func testStandardInputThatIsNotAudioFailsFast() throws {
        let r = try Tool.run("mel", ["-"], stdin: [UInt8](repeating: 0, count: 1 << 20))
        assertOneLineError(r, "mel", "standard input is not an audio file")
        let empty = try Tool.run("mel", ["-"], stdin: [])
        assertOneLineError(empty, "mel", "standard input is empty")
        let wav = try Repo.fixtureData("mel/short16k_800.wav")
        XCTAssertEqual(try Tool.run("mel", ["-q", "-"], stdin: wav).status, 0, "audio on stdin still works")
    }

    /// F. bsq-tensor info fails when it cannot write, and checks what zstd payloads decompress to.
    func testInfoReportsWriteFailuresAndBrokenZstdPayloads() throws {
        let dir = TempDir()
        let mel = try Tool.run("mel", ["-q", "--zstd", Repo.fixture("mel/short16k_800.wav").path]).stdout
        try Data(mel).write(to: URL(fileURLWithPath: dir.path("a.mel")))
        let r = try Tool.shell("bsq-tensor info \(dir.path("a.mel")) > /dev/full")
        XCTAssertNotEqual(r.status, 0, "a failed write is an error")
        XCTAssertTrue(r.stderr.hasPrefix("bsq-tensor: standard output: ") && r.stderr.contains("No space left on device"), r.stderr)
        // corrupt one byte inside the zstd payload and fix the CRC: the stored frame is valid, its content is not
        let f = try FrameReader(try ByteSource(path: dir.path("a.mel"))).nextUnverified()!
        XCTAssertTrue(f.zstd)
        var bytes = mel
        let at = f.head.count + f.payload.count / 2
        bytes[at] ^= 0x5A
        var c = CRC32()
        c.update(Array(bytes[0..<f.head.count])); c.update(Array(bytes[f.head.count..<(f.head.count + f.payload.count)]))
        let crc = c.value
        for i in 0..<4 { bytes[f.head.count + f.payload.count + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path("bad.mel")))
        let bad = try Tool.run("bsq-tensor", ["info", dir.path("bad.mel")])
        assertOneLineError(bad, "bsq-tensor", dir.path("bad.mel") + ": ")
    }

    /// G. The safetensors loader holds files to the format: exact tiling, unique names, finite weights, honest lengths.
    func testSafetensorsLoaderRefusesMalformedFiles() throws {
        let dir = TempDir()
        func file(_ header: String, data: [UInt8], name: String) throws -> String {
            var h = Array(header.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            var b = withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + data
            if name == "length" { b.replaceSubrange(0..<8, with: [UInt8](repeating: 0xFF, count: 8)) }
            let p = dir.path(name + ".safetensors")
            try Data(b).write(to: URL(fileURLWithPath: p))
            return p
        }
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(String, [UInt8], String, String)] = [
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight, "overlap", "overlaps"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight, "duplicate", "duplicate key"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, eight, "misaligned", "not a multiple"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, eight, "trailing", "bytes after the last tensor"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, eight, "length", "header length 18446744073709551615"),
        ]
        for (header, data, name, message) in cases {
            XCTAssertThrowsError(try SafeTensors(path: try file(header, data: data, name: name)), name) { e in
                XCTAssertTrue("\(e)".contains(message), "\(name): \(e)")
            }
        }
        // NaN weights in a model are refused by the tools
        XCTAssertEqual(try Tool.run("bsq-train", ["init", "--seed", "1", "--preset", "tiny", "-o", dir.path("m.safetensors")]).status, 0)
        let st = try SafeTensors(path: dir.path("m.safetensors"))
        var raw = try Repo.read(dir.path("m.safetensors"))
        let e = st.entries.first { $0.dtype == "F32" && $0.count > 3 }!
        let nan = Float.nan.bitPattern.littleEndian
        for i in 0..<4 { raw[e.range.lowerBound + 4 + i] = UInt8((nan >> (8 * UInt32(i))) & 0xFF) }
        try Data(raw).write(to: URL(fileURLWithPath: dir.path("nan.safetensors")))
        let mel = try Tool.run("mel", ["-q", Repo.fixture("mel/short16k_800.wav").path])
        let r = try Tool.run("bsq-encode", ["-m", dir.path("nan.safetensors")], stdin: mel.stdout)
        assertOneLineError(r, "bsq-encode", "holds nan at element 1")
        // a checkpoint's format is the kit's or PyTorch's ("pt"), or absent
        func patched(_ source: String, _ from: String, _ to: String, _ name: String) throws -> String {
            var bytes = try Repo.read(source)
            let f = Array(from.utf8), at = (0..<4096).first { Array(bytes[$0..<($0 + f.count)]) == f }!
            bytes.replaceSubrange(at..<(at + f.count), with: Array(to.utf8))
            try Data(bytes).write(to: URL(fileURLWithPath: dir.path(name)))
            return dir.path(name)
        }
        let other = try patched(dir.path("m.safetensors"), #""bsq-audio-1""#, #""bsq-audio-9""#, "other.safetensors")
        assertOneLineError(try Tool.run("bsq-encode", ["-m", other], stdin: mel.stdout), "bsq-encode",
                           #"safetensors format "bsq-audio-9", expected "bsq-audio-1" or "pt""#)
        let pt = try patched(dir.path("m.safetensors"), #""bsq-audio-1""#, #""pt"         "#, "pt.safetensors")
        XCTAssertEqual(try Tool.run("bsq-encode", ["-m", pt], stdin: mel.stdout).status, 0)
    }

    /// What the fuzzers found (kept in fuzz/corpus once fixed): each input is now a one-line error, or read as far as it goes.
    func testTheFuzzersFindingsAreHandled() throws {
        let crashes = Repo.root.appendingPathComponent("fuzz/corpus").path
        let empty = try Tool.run("bsq-tensor", ["from-npy", crashes + "/fuzz-npy/fortran-zero-dim-overflow.npy"])
        XCTAssertEqual(empty.status, 0, "an empty Fortran-order array of shape (2^62, 4, 0) is a valid, empty frame: \(empty.stderr)")
        XCTAssertEqual(try decodeFrames(empty.stdout).first?.dims, [1 << 62, 4, 0])
        let r = try Tool.run("bsq-tensor", ["from-npy", crashes + "/fuzz-npy/shape-close-before-open.npy"])
        assertOneLineError(r, "bsq-tensor", "unreadable shape")
        let frames = try Tool.run("bsq-tensor", ["info", crashes + "/fuzz-frames/zstd-declared-16gib.bsqt"])
        assertOneLineError(frames, "bsq-tensor", "cannot hold the")
        let zeroDim = try SafeTensors(path: crashes + "/fuzz-safetensors/zero-dim-count-overflow.safetensors")
        for e in zeroDim.entries where e.dtype == "F32" {
            XCTAssertEqual(e.count, 0, "\(e.shape) holds nothing (and its other dims must not overflow)")
            var none: [Float] = []
            try none.withUnsafeMutableBufferPointer { try zeroDim.floats(e, into: $0.baseAddress ?? UnsafeMutablePointer<Float>.allocate(capacity: 1)) }
        }
        XCTAssertThrowsError(try SafeTensors(path: crashes + "/fuzz-safetensors/byte-count-overflow-f16.safetensors")) {
            XCTAssertTrue("\($0)".contains("do not fit"), "2^51·4096 F16 elements: their bytes overflow an Int: \($0)")
        }
        let audio = try Tool.run("mel", ["-o", "/dev/null", crashes + "/fuzz-audio/announced-frames-oom.flac"])
        XCTAssertFalse(audio.signaled || audio.stderr.contains("Fatal error"), audio.stderr)
    }

    /// H. Audio that is not finite numbers is refused.
    func testNonFiniteAudioIsRefused() throws {
        let dir = TempDir()
        for (value, name) in [(Float.nan, "nan"), (Float.infinity, "inf")] {
            let samples = [Float](repeating: 0.1, count: 800) + [value] + [Float](repeating: 0.1, count: 800)
            try SoundFile.write(samples, channels: 1, sampleRate: 16000, format: .wavFloat, to: dir.path("\(name).wav"))
            let r = try Tool.run("mel", [dir.path("\(name).wav")])
            assertOneLineError(r, "mel", "sample 800 is \(value)")
        }
    }

    /// Mel frames with a NaN or an infinity are refused by every tool that takes them.
    func testNonFiniteMelFramesAreRefused() throws {
        var values = [Float](repeating: -40, count: 32 * 128)
        values[5 * 128 + 7] = .nan
        var meta = JSONObject()
        meta["kind"] = "mel"; meta["key"] = "bad"
        let frame = try FrameWriter.encode(Frame(values, dims: [32, 128], meta: meta))
        for tool in ["bsq-encode", "mel2wav", "specaug"] {
            let r = try Tool.run(tool, tool == "mel2wav" ? ["-o", "/dev/null", "-"] : [], stdin: frame)
            assertOneLineError(r, tool, "mel value [5, 7] is nan")
        }
    }

    /// H. A file too short for any header is called what it is (libsndfile says "possibly a pipe").
    func testAFileTooShortForAHeaderIsNamedAsSuch() throws {
        let dir = TempDir()
        try Data(try Repo.fixtureData("mel/mp3_22k_stereo.mp3")[0..<4]).write(to: URL(fileURLWithPath: dir.path("four.mp3")))
        let r = try Tool.run("mel", [dir.path("four.mp3")])
        assertOneLineError(r, "mel", "four.mp3: not an audio file libsndfile reads (4 bytes, no header it knows)")
    }


    /// A file with libsndfile's most channels (1024) decodes in blocks of
    /// 512 KiB (once 256 MB) to the mean of its channels, as a mono file does.
    func testManyChannelsDecodeToTheirMean() throws {
        let dir = TempDir()
        let mono = (0..<4000).map { i in Float(sin(Double(i) * 0.05)) * 0.5 }
        var wide = [Float](repeating: 0, count: mono.count * 1024)
        for (t, v) in mono.enumerated() { for c in 0..<1024 { wide[t * 1024 + c] = c % 2 == 0 ? v * 0.5 : v * 1.5 } }
        try SoundFile.write(mono, channels: 1, sampleRate: 16000, format: .wavFloat, to: dir.path("mono.wav"))
        try SoundFile.write(wide, channels: 1024, sampleRate: 16000, format: .wavFloat, to: dir.path("wide.wav"))
        let a = try Tool.run("mel", ["-q", dir.path("mono.wav")]), b = try Tool.run("mel", ["-q", dir.path("wide.wav")])
        XCTAssertEqual(b.status, 0, b.stderr)
        let x = try decodeFrames(a.stdout)[0].values(as: Float.self), y = try decodeFrames(b.stdout)[0].values(as: Float.self)
        XCTAssertEqual(x.count, y.count)
        XCTAssertLessThan(zip(x, y).map { abs($0 - $1) }.max()!, 0.1, "float rounding of a 1024-term mean, in dB")
    }

    /// A file below 1 kHz is refused: a 4 KB WAV of 2 Hz samples once became 17 minutes at 16 kHz (the fuzzer's timeout).
    func testSampleRatesBelowOneKilohertzAreRefused() throws {
        let dir = TempDir()
        try SoundFile.write([Float](repeating: 0.1, count: 400), channels: 1, sampleRate: 500, format: .wav16, to: dir.path("low.wav"))
        assertOneLineError(try Tool.run("mel", [dir.path("low.wav")]), "mel", "low.wav: sample rate 500 Hz is outside 1000...768000")
        let r = try Tool.run("mel", ["-"], stdin: try Repo.read(Repo.root.path + "/fuzz/corpus/fuzz-audio/wav_2hz_upsampled_17min.wav"))
        assertOneLineError(r, "mel", "sample rate 2 Hz is outside 1000...768000")
    }

    /// H. A corrupt mp3 (2 % of its bytes overwritten) fails with one line
    /// naming libmpg123's error, as a file and on stdin, and a batch goes on;
    /// none of libmpg123's raw messages reach stderr.
    func testCorruptMp3FailsWithOneLine() throws {
        let corrupt = Repo.fixture("mel/corrupt_mp3_22k.mp3").path, good = Repo.fixture("mel/mp3_22k_stereo.mp3").path
        let expected = "corrupt MPEG audio (libmpg123: dequantization failed, and 5 more errors)"
        assertOneLineError(try Tool.run("mel", [corrupt]), "mel", "corrupt_mp3_22k.mp3: " + expected)
        assertOneLineError(try Tool.run("mel", ["-"], stdin: try Repo.fixtureData("mel/corrupt_mp3_22k.mp3")), "mel", "-: " + expected)
        let batch = try Tool.run("mel", ["-q", good, corrupt, good])
        XCTAssertEqual(batch.status, 1)
        XCTAssertEqual(try decodeFrames(batch.stdout).count, 2)
        XCTAssertFalse(batch.stderr.contains("libmpg123/") || batch.stderr.contains("Note:"), batch.stderr)
        XCTAssertEqual(try Tool.run("mel", ["-q", good]).stderr, "")
    }
    /// I and J. A folder whose run died before its first checkpoint can be
    /// reused; leftovers of killed writers go; a folder in use is refused.
    func testRunFoldersAreLockedCleanedAndReusable() throws {
        let dir = TempDir(), run = dir.path("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: run + "/log.jsonl", contents: Data())
        FileManager.default.createFile(atPath: run + "/.step-00000010.safetensors.tmp-Ab12Cd", contents: Data("partial".utf8))
        let args = ["vocoder", "-q", "--steps", "1", "--set", "vocoder.dim=16", "--set", "vocoder.ffn=32", "--set", "vocoder.layers=1",
                    "--set", "train.segment=20", "--batch", "2", "-o", run, Repo.fixture("mel/short16k_800.wav").path]
        let first = try Tool.run("bsq-train", args)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/.step-00000010.safetensors.tmp-Ab12Cd"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/model.safetensors"))
        // a folder another process holds is refused, naming it
        let other = dir.path("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let fd = open(other + "/.lock", O_RDWR | O_CREAT, 0o644)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        _ = "4242\n".withCString { write(fd, $0, 5) }
        defer { close(fd) }
        var second = args
        second[second.firstIndex(of: run)!] = other
        let r = try Tool.run("bsq-train", second)
        assertOneLineError(r, "bsq-train", "in use by another trainer (pid 4242)")
    }

    /// SIGKILL at 20 random moments (many inside checkpoint writes, which
    /// happen every step here): every checkpoint left loads, and resuming
    /// after each kill ends with the bytes of an uninterrupted run.
    func testKilledAtRandomMomentsTheRunEndsWithTheSameBytes() throws {
        let dir = TempDir()
        let audio = Repo.fixture("mel/short16k_800.wav").path
        let args = ["vocoder", "-q", "--steps", "600", "--seed", "5", "--set", "vocoder.dim=16", "--set", "vocoder.ffn=32",
                    "--set", "vocoder.layers=1", "--set", "train.segment=20", "--batch", "2", "--set", "train.checkpoint_every=1",
                    "--set", "train.keep=2"]
        let whole = try Tool.run("bsq-train", args + ["-o", dir.path("whole"), audio])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let cut = dir.path("cut")
        func command() -> [String] {
            let resumable = (try? FileManager.default.contentsOfDirectory(atPath: cut))?.contains { $0.hasPrefix("step-") } ?? false
            return resumable ? ["vocoder", "-q", "--resume", cut, audio] : args + ["-o", cut, audio]
        }
        var rng = SplitMix64(seed: 11)
        var kills = 0
        while kills < 20, !FileManager.default.fileExists(atPath: cut + "/model.safetensors") {
            let p = Process()
            p.executableURL = Tool.binDir.appendingPathComponent("bsq-train")
            p.arguments = command()
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32(40_000 + rng.next() % 260_000))
            if !p.isRunning {
                p.waitUntilExit()
                XCTAssertEqual(p.terminationStatus, 0)
                break                                   // it finished first: the run is whole
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            kills += 1
            for name in try FileManager.default.contentsOfDirectory(atPath: cut) where name.hasPrefix("step-") {
                XCTAssertNoThrow(try VocoderState(resume: cut + "/" + name), "after kill \(kills): \(name)")
            }
        }
        XCTAssertEqual(kills, 20, "the run was killed 20 times before it could end")
        if !FileManager.default.fileExists(atPath: cut + "/model.safetensors") {
            let last = try Tool.run("bsq-train", command())
            XCTAssertEqual(last.status, 0, last.stderr)
        }
        XCTAssertEqual(try SafeTensors(path: dir.path("whole/model.safetensors")).sha256, try SafeTensors(path: cut + "/model.safetensors").sha256)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: cut).contains { $0.contains(".tmp-") && !$0.hasPrefix(".lock") },
                       "the last run removed what the killed ones left")
    }
}
