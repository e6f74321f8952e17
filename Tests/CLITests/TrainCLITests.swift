import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `bsq-train train` as a user runs it: configuration errors before any work,
/// exact resume after an interruption, gradient checkpointing, mel-frame input.
final class TrainCLITests: XCTestCase {
    /// A micro model (width 32, one layer, 1.28 s chunks) that trains in milliseconds per step.
    static let micro = ["--set", "model.width=32", "--set", "model.heads=2", "--set", "model.layers=1", "--set", "model.decoder_ffn=64",
                        "--set", "model.frames=128", "--set", "model.conv_kernel=7", "--set", "train.log_every=1"]

    /// A folder of the committed fixture clips (several rates, channels and formats).
    func audioFolder(_ dir: TempDir) throws -> String {
        let folder = dir.path("audio")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for f in ["long8k_flac.flac", "flac16k_stereo.flac", "mp3_22k_stereo.mp3", "short16k_800.wav", "opus48k_mono.opus"] {
            try FileManager.default.copyItem(atPath: Repo.fixture("mel/" + f).path, toPath: folder + "/" + f)
        }
        return folder
    }

    /// Log lines without the timing fields, which differ between runs.
    func losses(_ path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").map { line in
            line.replacingOccurrences(of: #","steps_per_s":[^,}]*"#, with: "", options: .regularExpression)
                .replacingOccurrences(of: #","samples_per_s":[^,}]*"#, with: "", options: .regularExpression)
        }
    }

    func testConfigurationErrorsNameTheFieldBeforeAnyWork() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        try Data("{\"train\": {\"batch\": \"eight\"}}".utf8).write(to: URL(fileURLWithPath: dir.path("bad.json")))
        try Data("{\"model\": {\"widht\": 64}}".utf8).write(to: URL(fileURLWithPath: dir.path("typo.json")))
        try FileManager.default.createDirectory(atPath: dir.path("empty"), withIntermediateDirectories: true)
        let cases: [([String], String)] = [
            (["--set", "model.heads=5"], "width (192) must be a positive multiple of heads (5)"),
            (["--set", "model.frames=1000"], "frames (1000) must be a positive multiple of patch_time (16)"),
            (["--set", "model.group_size=4"], "group_size (4) must divide embed_dim (18)"),
            (["--set", "train.lrr=1"], "unknown field 'train.lrr'"),
            (["--config", dir.path("bad.json")], "train.batch: wrong type"),
            (["--config", dir.path("typo.json")], "unknown field 'model.widht'"),
            (["--batch", "0"], "batch must be in 1...4096"),
            (["--preset", "huge"], "--preset must be tiny, small or base"),
        ]
        for (args, message) in cases {
            let r = try Tool.run("bsq-train", ["train", "-q", "-o", dir.path("run")] + args + [audio])
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix("bsq-train: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("run")), "\(args) created the run folder")
        }
        let empty = try Tool.run("bsq-train", ["train", "-q", "-o", dir.path("run"), dir.path("empty")])
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("no audio files found"), empty.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("run")))
    }

    /// A run stopped by SIGINT saves a checkpoint; resuming it gives the same
    /// losses, step for step, as a run that was never stopped.
    func testInterruptedRunResumesWithTheSameLosses() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        let args = ["train", "-q", "--steps", "120", "--batch", "2", "--seed", "5", "--val", Repo.fixture("mel/short16k_800.wav").path,
                    "--set", "train.val_every=50", "--set", "train.checkpoint_every=1000", "--set", "train.warmup=10"] + Self.micro
        let whole = try Tool.run("bsq-train", args + ["-o", dir.path("whole"), audio])
        XCTAssertEqual(whole.status, 0, whole.stderr)

        let p = Process()
        p.executableURL = Tool.binDir.appendingPathComponent("bsq-train")
        p.arguments = args + ["-o", dir.path("cut"), audio]
        p.standardError = FileHandle.nullDevice
        try p.run()
        let log = dir.path("cut/log.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let t = try? String(contentsOfFile: log, encoding: .utf8), t.split(separator: "\n").count >= 8 { break }
            usleep(2000)
        }
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 128 + SIGINT, "an interrupted run exits 130")
        let saved = Trainer.checkpoints(in: dir.path("cut"))
        XCTAssertEqual(saved.count, 1)
        let stoppedAt = saved.first?.step ?? 0
        XCTAssertGreaterThan(stoppedAt, 0)
        XCTAssertLessThan(stoppedAt, 120, "the run ended before the signal")

        let resumed = try Tool.run("bsq-train", ["train", "-q", "--resume", dir.path("cut"), audio, "--val", Repo.fixture("mel/short16k_800.wav").path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try losses(dir.path("cut/log.jsonl")), try losses(dir.path("whole/log.jsonl")))
        let a = try SafeTensors(path: dir.path("whole/model.safetensors")), b = try SafeTensors(path: dir.path("cut/model.safetensors"))
        XCTAssertEqual(a.metadata["step"], "120")
        XCTAssertEqual(a.sha256, b.sha256, "the final checkpoints differ")
    }

    /// Gradient checkpointing recomputes the same activations: identical losses.
    func testRecomputeGivesIdenticalLosses() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        let args = ["train", "-q", "--steps", "6", "--batch", "2"] + Self.micro + [audio]
        XCTAssertEqual(try Tool.run("bsq-train", args + ["-o", dir.path("a")]).status, 0)
        let r = try Tool.run("bsq-train", args + ["--recompute", "-o", dir.path("b")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try losses(dir.path("a/log.jsonl")), try losses(dir.path("b/log.jsonl")))
        let run = try RunConfig.decode(json: try SafeTensors(path: dir.path("b/model.safetensors")).metadata["run"] ?? "")
        XCTAssertTrue(run.train.recompute)
        XCTAssertEqual(run.model.width, 32)
    }

    /// Mel frames train as well as audio; a run folder in use is not overwritten.
    func testMelFramesAsDataAndNoOverwrite() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        let mel = try Tool.run("mel", ["-q", "-o", dir.path("data.mel"), audio])
        XCTAssertEqual(mel.status, 0, mel.stderr)
        let args = ["train", "-q", "--steps", "3", "--batch", "2"] + Self.micro
        let r = try Tool.run("bsq-train", args + ["-o", dir.path("run"), dir.path("data.mel")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let before = try Data(contentsOf: URL(fileURLWithPath: dir.path("run/model.safetensors")))
        let again = try Tool.run("bsq-train", args + ["-o", dir.path("run"), dir.path("data.mel")])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already holds a run"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.path("run/model.safetensors"))), before)
        // the checkpoint is a model the codec tools load (EMA weights)
        let codes = try Tool.shell("bsq-encode -m '\(dir.path("run/model.safetensors"))' '\(dir.path("data.mel"))' | bsq-tensor info")
        XCTAssertEqual(codes.status, 0, codes.stderr)
        // export: the EMA weights alone, as F16, renamed; readers widen them back
        let exported = dir.path("small16.safetensors")
        let ex = try Tool.run("bsq-train", ["export", "--f16", "--name", "micro16", dir.path("run/model.safetensors"), "-o", exported])
        XCTAssertEqual(ex.status, 0, ex.stderr)
        let file = try SafeTensors(path: exported)
        XCTAssertTrue(file.entries.allSatisfy { $0.dtype == "F16" && !$0.name.hasPrefix("ema.") && !$0.name.hasPrefix("optimizer.") })
        let full = try Checkpoint(path: dir.path("run/model.safetensors")), half = try Checkpoint(path: exported)
        XCTAssertTrue(full.usedEMA)
        XCTAssertEqual(half.name, "micro16")
        XCTAssertEqual(half.weights.count, full.weights.count)
        XCTAssertEqual(zip(half.weights, full.weights).filter { $0 != Float(Float16($1)) }.count, 0, "F16 rounding of the EMA weights")
        // a frame that is not mel is refused with its name
        let codesFile = dir.path("x.codes")
        XCTAssertEqual(try Tool.shell("bsq-encode -m '\(dir.path("run/model.safetensors"))' -o '\(codesFile)' '\(dir.path("data.mel"))'").status, 0)
        let bad = try Tool.run("bsq-train", args + ["-o", dir.path("run2"), codesFile])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("not a mel frame"), bad.stderr)
    }

    /// `--init` starts a new run from a model's weights and configuration: the
    /// validation at step 0 is the model's own; the loss fields may change, the
    /// shapes may not; the checkpoints say where the run started.
    func testFineTuneFromAModel() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("data.mel"), audio]).status, 0)
        let first = try Tool.run("bsq-train", ["train", "-q", "--steps", "4", "--batch", "2", "--set", "train.val_every=4",
                                               "--val", dir.path("data.mel"), "-o", dir.path("run")] + Self.micro + [dir.path("data.mel")])
        XCTAssertEqual(first.status, 0, first.stderr)
        let model = dir.path("run/model.safetensors")
        let r = try Tool.run("bsq-train", ["train", "-q", "--init", model, "--set", "model.group_size=18", "--set", "train.inv_temp=20",
                                           "--steps", "3", "--batch", "2", "--val", dir.path("data.mel"), "-o", dir.path("ft"), dir.path("data.mel")])
        XCTAssertEqual(r.status, 0, r.stderr)
        func val(_ path: String, step: Int) throws -> String? {
            try losses(path).first { $0.contains("\"kind\":\"val\"") && $0.contains("\"step\":\(step),") }
                .map { $0.replacingOccurrences(of: "\"step\":\(step),", with: "") }
        }
        XCTAssertNotNil(try val(dir.path("ft/log.jsonl"), step: 0))
        XCTAssertEqual(try val(dir.path("ft/log.jsonl"), step: 0), try val(dir.path("run/log.jsonl"), step: 4))
        let file = try SafeTensors(path: dir.path("ft/model.safetensors"))
        let run = try RunConfig.decode(json: file.metadata["run"] ?? "")
        XCTAssertEqual(run.model.width, 32)
        XCTAssertEqual(run.model.group_size, 18)
        let origin = try JSONValue.parse(file.metadata["init"] ?? "")
        XCTAssertEqual(origin["sha256"]?.string, try Checkpoint(path: model).sha256)
        XCTAssertEqual(origin["path"]?.string, model)
        // bad uses: one line, nonzero, no run folder
        let cases: [([String], String)] = [
            (["--init", model, "--preset", "small"], "--init takes the model from its file"),
            (["--init", model, "--set", "model.width=64", "--set", "model.heads=2"], "tensor 'encoder.patch_embed.weight' has shape [32, 256]"),
            (["--init", dir.path("missing.safetensors")], "missing.safetensors"),
        ]
        for (args, message) in cases {
            let b = try Tool.run("bsq-train", ["train", "-q", "-o", dir.path("bad")] + args + [dir.path("data.mel")])
            XCTAssertNotEqual(b.status, 0, "\(args)")
            XCTAssertTrue(b.stderr.hasPrefix("bsq-train: ") && b.stderr.contains(message), "\(args): \(b.stderr)")
            XCTAssertEqual(b.stderr.split(separator: "\n").count, 1, b.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("bad")), "\(args) created the run folder")
        }
    }

    /// The tiny preset (on 2.56 s chunks) overfits one clip: the reconstruction
    /// L1 of the validation (EMA off) and of `bsq-encode | bsq-decode` falls below 2 dB.
    func testTinyModelOverfitsOneClip() throws {
        let dir = TempDir()
        let clip = dir.path("clip.mel")
        XCTAssertEqual(try Tool.run("mel", ["-q", "--frames", "256", "--crop", "start", "-o", clip, Repo.fixture("mel/long8k_flac.flac").path]).status, 0)
        let r = try Tool.run("bsq-train", ["train", "-q", "--preset", "tiny", "--set", "model.frames=256", "--batch", "1", "--steps", "100",
                                           "--lr", "1e-3", "--set", "train.warmup=10", "--set", "train.min_lr=1e-3", "--set", "train.ema=0",
                                           "--set", "train.inv_temp=10", "--set", "train.val_every=100", "--val", clip, "-o", dir.path("run"), clip])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: dir.path("run/log.jsonl"), encoding: .utf8).split(separator: "\n")
        let last = try JSONValue.parse(String(lines.last { $0.contains("\"val\"") } ?? ""))
        XCTAssertEqual(last["step"]?.int, 100)
        let l1 = last["l1_db"]?.number ?? .infinity
        XCTAssertLessThan(l1, 2, "validation L1 after 100 steps")
        let m = dir.path("run/model.safetensors")
        let metrics = try Tool.shell("bsq-encode -m '\(m)' '\(clip)' | bsq-decode -m '\(m)' | spec-metrics --json '\(clip)' -")
        XCTAssertEqual(metrics.status, 0, metrics.stderr)
        let overall = try JSONValue.parse(String(metrics.stdoutText.split(separator: "\n").last ?? ""))
        XCTAssertEqual(overall["mae"]?.number ?? .infinity, l1, accuracy: 1e-3, "the codec tools reproduce the validation")
    }

    /// Adversarial training (disc.weight > 0): the discriminator joins at disc.start, its
    /// terms are logged, a run resumed from a checkpoint ends with the same bytes, an
    /// export leaves the discriminator out, and a discriminator too deep for the chunk is refused.
    func testAdversarialRunResumesExactlyAndExportsWithoutTheDiscriminator() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("data.mel"), audio]).status, 0)
        let args = ["train", "-q", "--steps", "12", "--batch", "2", "--seed", "3", "--set", "disc.weight=0.5", "--set", "disc.ndf=8",
                    "--set", "disc.layers=2", "--set", "disc.start=4", "--set", "train.checkpoint_every=6", "--set", "train.keep=5"] + Self.micro
        let whole = try Tool.run("bsq-train", args + ["-o", dir.path("whole"), dir.path("data.mel")])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let lines = try String(contentsOfFile: dir.path("whole/log.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 12)
        for (i, line) in lines.enumerated() {
            let o = try JSONValue.parse(line)
            for k in ["g_loss", "d_loss", "d_weight", "logits_real", "logits_fake"] {
                XCTAssertEqual(o[k]?.number != nil, i >= 4, "step \(i + 1) \(k)")
            }
        }
        // resume from the step-6 checkpoint in another folder: the same final bytes
        try FileManager.default.createDirectory(atPath: dir.path("cut"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir.path("whole/step-00000006.safetensors"), toPath: dir.path("cut/step-00000006.safetensors"))
        let resumed = try Tool.run("bsq-train", ["train", "-q", "--resume", dir.path("cut"), dir.path("data.mel")])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try SafeTensors(path: dir.path("whole/model.safetensors")).sha256, try SafeTensors(path: dir.path("cut/model.safetensors")).sha256)
        let saved = try SafeTensors(path: dir.path("whole/model.safetensors"))
        XCTAssertTrue(saved.entries.contains { $0.name == "discriminator.network.0.weight" })
        XCTAssertTrue(saved.entries.contains { $0.name.hasPrefix("disc_optimizer.exp_avg.") })
        // the codec tools and export take the model without it
        let ex = try Tool.run("bsq-train", ["export", dir.path("whole/model.safetensors"), "-o", dir.path("model.safetensors")])
        XCTAssertEqual(ex.status, 0, ex.stderr)
        XCTAssertFalse(try SafeTensors(path: dir.path("model.safetensors")).entries.contains { $0.name.hasPrefix("disc") })
        XCTAssertEqual(try Tool.shell("bsq-encode -m '\(dir.path("whole/model.safetensors"))' '\(dir.path("data.mel"))' | bsq-tensor info").status, 0)
        let deep = try Tool.run("bsq-train", ["train", "-q", "-o", dir.path("deep"), "--set", "disc.weight=1", "--set", "disc.layers=6"]
                                + Self.micro + [dir.path("data.mel")])
        XCTAssertNotEqual(deep.status, 0)
        XCTAssertTrue(deep.stderr.contains("disc config: 6 layers need chunks of at least"), deep.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("deep")))
    }

    /// Masked pre-training: a model with a mask token trains with masks, the codec
    /// tools run it (never masking); masks without a token are refused by name.
    func testMaskedPretrainingRunsAndItsModelEncodes() throws {
        let dir = TempDir()
        let audio = try audioFolder(dir)
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("data.mel"), audio]).status, 0)
        let args = ["train", "-q", "--steps", "4", "--batch", "2"] + Self.micro + ["--set", "train.mask_ratio=0.5", "--set", "train.mask_loss=masked"]
        let refused = try Tool.run("bsq-train", args + ["-o", dir.path("no"), dir.path("data.mel")])
        XCTAssertEqual(refused.status, 64, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("mask_ratio needs a model with a mask token (model.mask_token=true)"), refused.stderr)
        let r = try Tool.run("bsq-train", args + ["--set", "model.mask_token=true", "-o", dir.path("run"), dir.path("data.mel")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let ck = try Checkpoint(path: dir.path("run/model.safetensors"))
        XCTAssertTrue(ck.config.hasMaskToken)
        XCTAssertNotNil(ck.layout.slot("encoder.mask_token"))
        let run = try RunConfig.decode(json: try SafeTensors(path: dir.path("run/model.safetensors")).metadata["run"] ?? "")
        XCTAssertEqual(run.train.maskRatio, 0.5)
        XCTAssertTrue(run.train.maskedLossOnly)
        let codes = try Tool.shell("bsq-encode -m '\(dir.path("run/model.safetensors"))' '\(dir.path("data.mel"))' | bsq-tensor info")
        XCTAssertEqual(codes.status, 0, codes.stderr)
    }
}
