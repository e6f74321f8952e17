import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `bsq-train train` under `mpirun`: one model trained by N processes that
/// split each batch, against the same run in one process; resume across N;
/// an interrupt of the launcher; a rank that dies; a failure on every rank.
final class MPITrainCLITests: XCTestCase {
    static let mpirun = "/usr/bin/mpirun"

    /// mpirun as root in CI, more ranks than cores; `graceSeconds` between the
    /// launcher's SIGTERM and its SIGKILL (Open MPI's default is 1 s).
    func launch(_ n: Int, _ args: [String], wrapper: String? = nil, graceSeconds: Int = 1) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "--mca", "odls_base_sigkill_timeout", "\(graceSeconds)", "-np", "\(n)"]
            + (wrapper.map { [$0] } ?? []) + [Tool.binDir.appendingPathComponent("bsq-train").path] + args
    }

    func mpi(_ n: Int, _ args: [String]) throws -> ToolResult {
        try Tool.runProgram(Self.mpirun, launch(n, args))
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.mpirun) else {
            throw XCTSkip("Open MPI is not installed (make deps installs openmpi-bin)")
        }
    }

    func train(_ dir: TempDir, steps: Int = 20, extra: [String] = []) throws -> [String] {
        let audio = dir.path("audio")
        if !FileManager.default.fileExists(atPath: audio) {
            try FileManager.default.createDirectory(atPath: audio, withIntermediateDirectories: true)
            for f in ["long8k_flac.flac", "flac16k_stereo.flac", "mp3_22k_stereo.mp3", "short16k_800.wav", "opus48k_mono.opus"] {
                try FileManager.default.copyItem(atPath: Repo.fixture("mel/" + f).path, toPath: audio + "/" + f)
            }
        }
        return ["train", "-q", "--steps", "\(steps)", "--batch", "4", "--threads", "1", "--seed", "3",
                "--set", "train.warmup=5", "--set", "train.checkpoint_every=1000"] + TrainCLITests.micro + extra + [audio]
    }

    /// The numbers of the `train` lines of a log, by field.
    func figures(_ path: String, _ field: String, kind: String = "train") throws -> [Double] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> Double? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["kind"] as? String == kind else { return nil }
            return (o[field] as? NSNumber)?.doubleValue
        }
    }

    func assertClose(_ a: [Double], _ b: [Double], _ what: String, relative: Double = 1e-4) {
        XCTAssertEqual(a.count, b.count, what)
        for (i, (x, y)) in zip(a, b).enumerated() {
            XCTAssertLessThanOrEqual(abs(x - y), relative * max(abs(x), abs(y), 1e-12), "\(what) at step \(i + 1): \(x) vs \(y)")
        }
    }

    func testRanksSplitTheBatchAndAgreeWithOneProcess() throws {
        let dir = TempDir()
        let args = try train(dir, extra: ["--val", Repo.fixture("mel/short16k_800.wav").path, "--val", Repo.fixture("mel/long8k_flac.flac").path,
                                          "--set", "train.val_every=10"])
        let plain = try Tool.run("bsq-train", args + ["-o", dir.path("plain")])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        for (n, name) in [(1, "np1"), (2, "np2"), (2, "np2-again"), (4, "np4")] {
            let r = try mpi(n, args + ["-o", dir.path(name)])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
        }
        let model = { (name: String) in try SafeTensors(path: dir.path(name + "/model.safetensors")).sha256 }
        XCTAssertEqual(try model("np1"), try model("plain"), "mpirun -np 1 trains exactly what one process does")
        XCTAssertEqual(try model("np2"), try model("np2-again"), "a rerun with the same N gives the same bytes")
        XCTAssertNotEqual(try model("np2"), try model("plain"), "two ranks sum in another order")
        for name in ["np2", "np4"] {
            for field in ["loss", "l1", "commit", "h_ps", "h_cb", "grad_norm"] {
                assertClose(try figures(dir.path(name + "/log.jsonl"), field), try figures(dir.path("plain/log.jsonl"), field), "\(name) \(field)")
            }
            XCTAssertEqual(try figures(dir.path(name + "/log.jsonl"), "code_usage"), try figures(dir.path("plain/log.jsonl"), "code_usage"),
                           "\(name): the logged code usage is over the whole batch")
            for field in ["l1_db", "lsd", "code_usage"] {
                assertClose(try figures(dir.path(name + "/log.jsonl"), field, kind: "val"), try figures(dir.path("plain/log.jsonl"), field, kind: "val"),
                            "\(name) validation \(field)")
            }
            XCTAssertEqual(try figures(dir.path(name + "/log.jsonl"), "comm_s").count, 20, "\(name): each line says the time spent communicating")
        }
    }

    /// The discriminator's BatchNorm, hinge losses and adaptive weight, and
    /// masked pre-training's masks, are over the whole batch too.
    func testAdversarialAndMaskedTrainingAcrossRanks() throws {
        let dir = TempDir()
        let args = try train(dir, steps: 10, extra: ["--set", "disc.weight=0.5", "--set", "disc.ndf=8", "--set", "disc.layers=2",
                                                     "--set", "disc.start=3", "--set", "train.mask_ratio=0.3", "--set", "model.mask_token=true"])
        let plain = try Tool.run("bsq-train", args + ["-o", dir.path("plain")])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        for (n, name) in [(1, "np1"), (2, "np2")] {
            let r = try mpi(n, args + ["-o", dir.path(name)])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
        }
        XCTAssertEqual(try SafeTensors(path: dir.path("np1/model.safetensors")).sha256, try SafeTensors(path: dir.path("plain/model.safetensors")).sha256)
        for (field, lines) in [("loss", 10), ("l1", 10), ("grad_norm", 10), ("d_loss", 7), ("d_weight", 7)] {
            let a = try figures(dir.path("np2/log.jsonl"), field), b = try figures(dir.path("plain/log.jsonl"), field)
            XCTAssertEqual(a.count, lines, "\(field): the adversarial terms from disc.start on")
            assertClose(a, b, "np2 \(field)")
        }
        // D's logits may move by a constant between N: the last convolution's bias has a gradient that is 0
        // in exact arithmetic while every hinge term is active, and AdamW's first steps turn the rounding
        // of its sum (other for each N) into ±lr steps. Their spread does not move.
        let spread = { (name: String) in
            zip(try self.figures(dir.path(name + "/log.jsonl"), "logits_real"), try self.figures(dir.path(name + "/log.jsonl"), "logits_fake")).map { $0 - $1 }
        }
        assertClose(try spread("np2"), try spread("plain"), "np2 logits_real - logits_fake", relative: 1e-3)
    }

    func testResumeAcrossProcessCounts() throws {
        let dir = TempDir()
        let whole = try mpi(2, try train(dir, steps: 16, extra: ["--set", "train.checkpoint_every=8"]) + ["-o", dir.path("whole")])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        // from the step-8 checkpoint of the two-rank run: on with two ranks (exact), one or four (within rounding)
        for (n, name) in [(2, "cut2"), (1, "cut1"), (4, "cut4")] {
            try FileManager.default.createDirectory(atPath: dir.path(name), withIntermediateDirectories: true)
            for f in ["step-00000008.safetensors", "log.jsonl"] { try FileManager.default.copyItem(atPath: dir.path("whole/" + f), toPath: dir.path(name + "/" + f)) }
            let r = try mpi(n, ["train", "-q", "--threads", "1", "--resume", dir.path(name + "/step-00000008.safetensors"), dir.path("audio")])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
        }
        let sha = { (name: String) in try SafeTensors(path: dir.path(name + "/model.safetensors")).sha256 }
        XCTAssertEqual(try sha("cut2"), try sha("whole"), "resuming with the same N is exact")
        for name in ["cut1", "cut4"] {
            XCTAssertNotEqual(try sha(name), try sha("whole"))
            assertClose(try figures(dir.path(name + "/log.jsonl"), "loss"), try figures(dir.path("whole/log.jsonl"), "loss"), name)
        }
    }

    /// Open MPI's mpirun passes SIGUSR1 on to every process at once; SIGTERM
    /// and SIGINT it turns into its own abort (SIGTERM to every process after
    /// `odls_base_sigkill_timeout`, SIGKILL as long again later). Both save.
    func testAnInterruptOfTheLauncherSavesOnceAndEveryRankExits() throws {
        for (signal, name) in [(SIGUSR1, "usr1"), (SIGTERM, "term"), (SIGINT, "int")] {
            let dir = TempDir()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.mpirun)
            p.arguments = launch(2, try train(dir, steps: 1_000_000) + ["-o", dir.path("run")])
            let stderr = Pipe()
            p.standardError = stderr
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, (try? figures(dir.path("run/log.jsonl"), "loss").count) ?? 0 < 5 { usleep(5000) }
            kill(p.processIdentifier, signal)
            let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            let saved = Trainer.checkpoints(in: dir.path("run"))
            XCTAssertEqual(saved.count, 1, "\(name): one checkpoint, written by rank 0")
            XCTAssertEqual(text.components(separatedBy: "bsq-train: interrupted at step").count, 2, "\(name): one message\n" + text)
            XCTAssertEqual(try figures(dir.path("run/log.jsonl"), "loss").count, saved.first?.step, "\(name): the log ends at the checkpoint")
            XCTAssertNoThrow(try TrainingState(resume: saved.first!.path))
            if signal == SIGUSR1 {
                XCTAssertEqual(p.terminationStatus, 128 + SIGUSR1, "the ranks exit 138 and so does mpirun\n" + text)
            } else {
                XCTAssertNotEqual(p.terminationStatus, 0)
            }
        }
    }

    func testARankThatDiesStopsTheJobAndTheLastCheckpointStays() throws {
        let dir = TempDir()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.mpirun)
        p.arguments = launch(2, try train(dir, steps: 1_000_000, extra: ["--set", "train.checkpoint_every=20"]) + ["-o", dir.path("run")])
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, Trainer.checkpoints(in: dir.path("run")).isEmpty { usleep(5000) }
        let pids = try Tool.runProgram("/usr/bin/pgrep", ["-P", "\(p.processIdentifier)"]).stdoutText
            .split(separator: "\n").compactMap { Int32($0) }
        XCTAssertEqual(pids.count, 2)
        kill(pids.max()!, SIGKILL)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        func running(_ pid: Int32) -> Bool {   // a zombie waiting for its reaper has stopped
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
            return !stat[close...].hasPrefix(") Z")
        }
        let end = Date().addingTimeInterval(10)
        while Date() < end, pids.contains(where: running) { usleep(10000) }
        for pid in pids { XCTAssertFalse(running(pid), "rank \(pid) is left running") }
        for c in Trainer.checkpoints(in: dir.path("run")) { XCTAssertNoThrow(try TrainingState(resume: c.path), c.path) }
        XCTAssertFalse(Trainer.checkpoints(in: dir.path("run")).isEmpty)
    }

    func testAFailureOnEveryRankIsOneMessage() throws {
        let dir = TempDir()
        let r = try mpi(2, try train(dir, extra: ["--lr", "1e30"]) + ["-o", dir.path("run")])
        XCTAssertNotEqual(r.status, 0)
        let ours = r.stderr.split(separator: "\n").filter { $0.hasPrefix("bsq-train:") }
        XCTAssertEqual(ours.count, 1, r.stderr)
        XCTAssertTrue(ours.first?.contains("the loss is") ?? false, r.stderr)
        let small = try mpi(2, try train(dir, extra: ["--batch", "1"]) + ["-o", dir.path("small")])
        XCTAssertEqual(small.status, 1)
        XCTAssertTrue(small.stderr.contains("bsq-train: train.batch is 1 but the run has 2 processes"), small.stderr)
        let stdin = try mpi(2, try train(dir).dropLast() + ["-", "-o", dir.path("stdin")])
        XCTAssertEqual(stdin.status, 1)
        XCTAssertTrue(stdin.stderr.contains("bsq-train: '-' (mel frames on standard input) reaches only the first of the 2 processes"), stdin.stderr)
    }
}
