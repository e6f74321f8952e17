import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `bsq-train vocoder` and `mel2wav --vocoder` as a user runs them:
/// configuration errors before any work, an exact resume, export, the
/// vocoder in mel2wav (lengths, levels, refused analyses and files), and
/// fine-tuning on a tokenizer's reconstructions.
final class VocoderCLITests: XCTestCase {
    /// A micro vocoder (dim 16, one block) on 20-frame crops: milliseconds a step.
    static let micro = ["--set", "vocoder.dim=16", "--set", "vocoder.ffn=32", "--set", "vocoder.layers=1", "--set", "train.segment=20",
                        "--set", "train.log_every=1", "--batch", "2"]

    func audioFolder(_ dir: TempDir) throws -> String {
        let folder = dir.path("audio")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for f in ["long8k_flac.flac", "flac16k_stereo.flac", "mp3_22k_stereo.mp3", "short16k_800.wav"] {
            try FileManager.default.copyItem(atPath: Repo.fixture("mel/" + f).path, toPath: folder + "/" + f)
        }
        return folder
    }

    func testConfigurationErrorsNameTheFieldBeforeAnyWork() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        let cases: [([String], String)] = [
            (["--set", "train.lrr=1"], "unknown field 'train.lrr'"),
            (["--set", "model.width=3"], "unknown section 'model' (expected vocoder, train or disc)"),
            (["--set", "train.segment=4"], "segment must be in 8...100000 frames (got 4)"),
            (["--set", "vocoder.hop_length=161"], "hop_length must be even"),
            (["--preset", "huge"], "--preset must be tiny or base"),
            (["--batch", "0"], "batch must be in 1...1024"),
            (["--set", "disc.weight=1", "--set", "train.segment=8", "--set", "disc.resolutions=[[4096,1024,4096]]"],
             "the crops' 1120 samples are too short for the discriminators (at least 2049"),
            (["--set", "disc.mpd_channels=[4,4]"], "mpd_channels must be 5 values"),
            (["--set", "disc.resolutions=[[512,0,512]]"], "each resolution is [n_fft, hop, win]"),
        ]
        for (args, message) in cases {
            let r = try Tool.run("bsq-train", ["vocoder", "-q", "-o", dir.path("run")] + args + [audio])
            XCTAssertEqual(r.status, 64, "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix("bsq-train: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("run")), "\(args) created the run folder")
        }
        let missing = try Tool.run("bsq-train", ["vocoder", "-q", "-o", dir.path("run"), "--codec", dir.path("nope.safetensors"), audio])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.safetensors"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("run")))
    }

    /// A run resumed from a middle checkpoint in another folder ends with the
    /// same bytes; its export runs in mel2wav with librosa's output length.
    func testResumeIsExactAndTheExportedVocoderRunsInMel2Wav() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        let args = ["vocoder", "-q", "--steps", "8", "--seed", "4", "--set", "train.checkpoint_every=4", "--set", "train.keep=5",
                    "--set", "train.warmup=2", "--val", Repo.fixture("mel/short16k_800.wav").path] + Self.micro
        let whole = try Tool.run("bsq-train", args + ["-o", dir.path("whole"), audio])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let lines = try String(contentsOfFile: dir.path("whole/log.jsonl"), encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(String($0)) }
        XCTAssertEqual(lines.filter { $0["kind"]?.string == "train" }.count, 8)
        XCTAssertEqual(lines.filter { $0["kind"]?.string == "val" }.count, 2, "validated at the start and the end")
        for l in lines { for k in ["loss", "mel", "stft"] { XCTAssertTrue(l[k]?.number?.isFinite ?? false, "\(k) in \(l.serialized())") } }
        try FileManager.default.createDirectory(atPath: dir.path("cut"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir.path("whole/step-00000004.safetensors"), toPath: dir.path("cut/step-00000004.safetensors"))
        let resumed = try Tool.run("bsq-train", ["vocoder", "-q", "--resume", dir.path("cut"), audio, "--val", Repo.fixture("mel/short16k_800.wav").path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try SafeTensors(path: dir.path("whole/model.safetensors")).sha256, try SafeTensors(path: dir.path("cut/model.safetensors")).sha256)

        let ex = try Tool.run("bsq-train", ["export", "--f16", "--name", "micro", dir.path("whole/model.safetensors"), "-o", dir.path("voc.safetensors")])
        XCTAssertEqual(ex.status, 0, ex.stderr)
        let exported = try SafeTensors(path: dir.path("voc.safetensors"))
        XCTAssertFalse(exported.entries.contains { $0.name.hasPrefix("ema.") || $0.name.hasPrefix("optimizer.") })
        XCTAssertTrue(exported.entries.allSatisfy { $0.dtype == "F16" })
        XCTAssertEqual(exported.metadata["format"], VocoderCheckpoint.format)

        let clip = Repo.fixture("mel/flac16k_stereo.flac").path
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("a.mel"), clip]).status, 0)
        let frames = try MelFrame(try decodeFrames(try Repo.read(dir.path("a.mel")))[0]).frames
        let r = try Tool.run("mel2wav", ["--vocoder", dir.path("voc.safetensors"), "-o", dir.path("a.wav"), dir.path("a.mel")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let wav = try SoundFile(path: dir.path("a.wav"))
        XCTAssertEqual(wav.announcedFrames, (frames - 1) * 160, "librosa's length for centred frames")
        XCTAssertEqual(wav.sampleRate, 16000)
        // the default vocoder through the environment, -j and folders as with Griffin-Lim
        let env = ["BSQ_DEFAULT_VOCODER": dir.path("voc.safetensors")]
        let d = try Tool.run("mel2wav", ["--vocoder", "default", "-o", dir.path("b.wav"), dir.path("a.mel")], env: env)
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertEqual(try Repo.read(dir.path("a.wav")), try Repo.read(dir.path("b.wav")))
    }

    /// Adversarial fine-tuning (`disc.weight` > 0) from a plain run's vocoder:
    /// the discriminators' terms logged from `disc.start` on, their state in
    /// the checkpoints, an exact resume, and an export without them.
    func testAdversarialFineTuningResumesExactlyAndExportsTheVocoderAlone() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        XCTAssertEqual(try Tool.run("bsq-train", ["vocoder", "-q", "--steps", "2", "-o", dir.path("base")] + Self.micro + [audio]).status, 0)
        let gan = ["--set", "disc.weight=1", "--set", "disc.start=2", "--set", "disc.mpd_channels=[4,4,8,8,8]", "--set", "disc.mrd_channels=4",
                   "--set", "disc.lr=2e-4"]
        let args = ["vocoder", "-q", "--steps", "6", "--seed", "3", "--init", dir.path("base/model.safetensors"),
                    "--set", "train.checkpoint_every=3", "--set", "train.keep=5", "--set", "train.segment=20", "--set", "train.log_every=1",
                    "--batch", "2"] + gan
        let whole = try Tool.run("bsq-train", args + ["-o", dir.path("whole"), audio])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let train = try String(contentsOfFile: dir.path("whole/log.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONValue.parse(String($0)) }.filter { $0["kind"]?.string == "train" }
        XCTAssertEqual(train.count, 6)
        for l in train {
            let step = Int(l["step"]?.number ?? 0)
            for k in ["d_loss", "d_mpd", "d_mrd", "gen", "fm"] {
                if step <= 2 { XCTAssertNil(l[k], "\(k) before disc.start: \(l.serialized())") } else {
                    XCTAssertTrue((l[k]?.number ?? -1) > 0, "\(k) at step \(step): \(l.serialized())")
                }
            }
        }
        let checkpoint = try SafeTensors(path: dir.path("whole/step-00000003.safetensors"))
        XCTAssertNotNil(checkpoint.entry("multiperioddisc.discriminators.4.conv_post.weight_v"))
        XCTAssertNotNil(checkpoint.entry("disc_optimizer.exp_avg.multiresddisc.discriminators.2.convs.4.bias"))
        XCTAssertEqual(checkpoint.metadata["disc_optimizer_step"], "1")
        try FileManager.default.createDirectory(atPath: dir.path("cut"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir.path("whole/step-00000003.safetensors"), toPath: dir.path("cut/step-00000003.safetensors"))
        let resumed = try Tool.run("bsq-train", ["vocoder", "-q", "--resume", dir.path("cut"), audio])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try SafeTensors(path: dir.path("whole/model.safetensors")).sha256, try SafeTensors(path: dir.path("cut/model.safetensors")).sha256)
        XCTAssertNotEqual(try SafeTensors(path: dir.path("whole/model.safetensors")).sha256, try SafeTensors(path: dir.path("base/model.safetensors")).sha256)

        let ex = try Tool.run("bsq-train", ["export", dir.path("whole/model.safetensors"), "-o", dir.path("voc.safetensors")])
        XCTAssertEqual(ex.status, 0, ex.stderr)
        let exported = try SafeTensors(path: dir.path("voc.safetensors"))
        XCTAssertFalse(exported.entries.contains { $0.name.contains("disc") }, "the discriminators stay in the run")
        XCTAssertEqual(exported.entries.count, VocosNetwork(try VocoderCheckpoint(path: dir.path("voc.safetensors")).config).layout.slots.count)
    }

    /// SIGINT saves a checkpoint and exits 130; resuming ends with the bytes of an uninterrupted run.
    func testInterruptedRunSavesAndResumesExactly() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        let args = ["vocoder", "-q", "--steps", "150", "--seed", "2", "--set", "train.checkpoint_every=1000"] + Self.micro
        let whole = try Tool.run("bsq-train", args + ["-o", dir.path("whole"), audio])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let p = Process()
        p.executableURL = Tool.binDir.appendingPathComponent("bsq-train")
        p.arguments = args + ["-o", dir.path("cut"), audio]
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let t = try? String(contentsOfFile: dir.path("cut/log.jsonl"), encoding: .utf8), t.split(separator: "\n").count >= 5 { break }
            usleep(2000)
        }
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 128 + SIGINT)
        let saved = Trainer.checkpoints(in: dir.path("cut"))
        XCTAssertEqual(saved.count, 1)
        XCTAssertLessThan(saved.first?.step ?? 150, 150, "the run ended before the signal")
        let resumed = try Tool.run("bsq-train", ["vocoder", "-q", "--resume", dir.path("cut"), audio])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try SafeTensors(path: dir.path("whole/model.safetensors")).sha256, try SafeTensors(path: dir.path("cut/model.safetensors")).sha256)
    }

    /// --vocoder auto (the default): the vocoder for frames bsq-decode made, Griffin-Lim for the others.
    func testAutoSendsDecodedFramesToTheVocoder() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        XCTAssertEqual(try Tool.run("bsq-train", ["vocoder", "-q", "--steps", "1", "-o", dir.path("run")] + Self.micro + [audio]).status, 0)
        XCTAssertEqual(try Tool.run("bsq-train", ["init", "--seed", "1", "-o", dir.path("tok.safetensors")]).status, 0)
        let voc = dir.path("run/model.safetensors"), tok = dir.path("tok.safetensors")
        let made = try Tool.shell("mel -q -o '\(dir.path("a.mel"))' '\(Repo.fixture("mel/flac16k_stereo.flac").path)' && "
                                  + "bsq-encode -m '\(tok)' '\(dir.path("a.mel"))' | bsq-decode -m '\(tok)' -o '\(dir.path("a.rec.mel"))'")
        XCTAssertEqual(made.status, 0, made.stderr)
        let env = ["BSQ_DEFAULT_VOCODER": voc]
        func render(_ args: [String], _ input: String, _ out: String, env: [String: String] = env) throws -> [UInt8] {
            let r = try Tool.run("mel2wav", args + ["-o", dir.path(out), dir.path(input)], env: env)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try Repo.read(dir.path(out))
        }
        XCTAssertEqual(try render([], "a.rec.mel", "auto-dec.wav"), try render(["--vocoder", voc], "a.rec.mel", "voc-dec.wav"))
        XCTAssertEqual(try render([], "a.mel", "auto-mel.wav"), try render(["--vocoder", "griffin-lim"], "a.mel", "gl-mel.wav"))
        XCTAssertNotEqual(try render([], "a.rec.mel", "auto-dec2.wav"), try render(["--vocoder", "griffin-lim"], "a.rec.mel", "gl-dec.wav"))
        // no vocoder installed: Griffin-Lim, with a warning
        let missing = try Tool.run("mel2wav", ["-o", dir.path("m.wav"), dir.path("a.rec.mel")], env: ["BSQ_DEFAULT_VOCODER": dir.path("gone")])
        XCTAssertEqual(missing.status, 0, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("the default vocoder is not installed: Griffin-Lim for every frame"), missing.stderr)
        XCTAssertEqual(try Repo.read(dir.path("m.wav")), try Repo.read(dir.path("gl-dec.wav")))
    }

    func testMel2WavRefusesWhatTheVocoderCannotTake() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        XCTAssertEqual(try Tool.run("bsq-train", ["vocoder", "-q", "--steps", "1", "-o", dir.path("run")] + Self.micro + [audio]).status, 0)
        let voc = dir.path("run/model.safetensors"), clip = Repo.fixture("mel/flac16k_stereo.flac").path
        XCTAssertEqual(try Tool.run("mel", ["-q", "--hop-length", "256", "-o", dir.path("hop256.mel"), clip]).status, 0)
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("a.mel"), clip]).status, 0)
        assertToolError(try Tool.run("mel2wav", ["--vocoder", voc, "-o", dir.path("x.wav"), dir.path("hop256.mel")]), "mel2wav",
                        contains: "use --vocoder griffin-lim", status: 1)
        XCTAssertEqual(try Tool.run("mel", ["-q", "--ref", "1", "-o", dir.path("ref1.mel"), clip]).status, 0)
        assertToolError(try Tool.run("mel2wav", ["--vocoder", voc, "-o", dir.path("x.wav"), dir.path("ref1.mel")]), "mel2wav",
                        contains: "not a fixed reference", status: 1)
        assertToolError(try Tool.run("mel2wav", ["--vocoder", dir.path("missing.safetensors"), "-o", dir.path("x.wav"), dir.path("a.mel")]),
                        "mel2wav", contains: "missing.safetensors", status: 1)
        XCTAssertEqual(try Tool.run("bsq-train", ["init", "-o", dir.path("tok.safetensors")]).status, 0)
        assertToolError(try Tool.run("mel2wav", ["--vocoder", dir.path("tok.safetensors"), "-o", dir.path("x.wav"), dir.path("a.mel")]),
                        "mel2wav", contains: "not a vocoder", status: 1)
        assertToolError(try Tool.run("mel2wav", ["--vocoder", "default", "-o", dir.path("x.wav"), dir.path("a.mel")],
                                     env: ["BSQ_DEFAULT_VOCODER": dir.path("gone.safetensors")]),
                        "mel2wav", contains: "default vocoder is not installed", status: 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("x.wav")), "nothing partial is left")
    }

    /// --codec: the input frames are the tokenizer's reconstructions; the run
    /// records which tokenizer, and its resume refuses another one.
    func testFineTuningOnATokenizersReconstructions() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        XCTAssertEqual(try Tool.run("bsq-train", ["init", "--seed", "1", "-o", dir.path("tok.safetensors")]).status, 0)
        XCTAssertEqual(try Tool.run("bsq-train", ["vocoder", "-q", "--steps", "2", "-o", dir.path("base")] + Self.micro + [audio]).status, 0)
        let r = try Tool.run("bsq-train", ["vocoder", "-q", "--steps", "4", "--set", "train.checkpoint_every=2", "--init", dir.path("base/model.safetensors"),
                                           "--codec", dir.path("tok.safetensors"), "-o", dir.path("ft"), "--set", "train.segment=20",
                                           "--set", "train.log_every=1", "--batch", "2", audio])
        XCTAssertEqual(r.status, 0, r.stderr)
        let saved = try SafeTensors(path: dir.path("ft/model.safetensors"))
        let codec = try JSONValue.parse(saved.metadata["codec"] ?? "")
        XCTAssertEqual(codec["sha256"]?.string, try SafeTensors(path: dir.path("tok.safetensors")).sha256)
        XCTAssertEqual(try VocoderCheckpoint(path: dir.path("ft/model.safetensors")).config.dim, 16, "the network comes from --init")
        let reshaped = try Tool.run("bsq-train", ["vocoder", "-q", "--init", dir.path("base/model.safetensors"), "--set", "vocoder.dim=32",
                                                  "-o", dir.path("reshaped"), audio])
        XCTAssertEqual(reshaped.status, 64)
        XCTAssertTrue(reshaped.stderr.contains("only vocoder.name may be set"), reshaped.stderr)
        // the same crops through another tokenizer give other losses: the input is the reconstruction
        let plain = try Tool.run("bsq-train", ["vocoder", "-q", "--steps", "1", "--init", dir.path("base/model.safetensors"), "-o", dir.path("plain"),
                                               "--set", "train.segment=20", "--set", "train.log_every=1", "--batch", "2", audio])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let first = { (p: String) in try JSONValue.parse(String(try String(contentsOfFile: p, encoding: .utf8).split(separator: "\n")[0]))["loss"]?.number }
        XCTAssertNotEqual(try first(dir.path("ft/log.jsonl")), try first(dir.path("plain/log.jsonl")))
        // resuming with the tokenizer file changed is refused
        try FileManager.default.removeItem(atPath: dir.path("ft/model.safetensors"))
        XCTAssertEqual(try Tool.run("bsq-train", ["init", "--seed", "2", "-o", dir.path("tok.safetensors")]).status, 0)
        let again = try Tool.run("bsq-train", ["vocoder", "-q", "--resume", dir.path("ft"), "--steps", "6", audio])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("not the tokenizer the run started with"), again.stderr)
    }
}
