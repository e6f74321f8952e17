import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Tools with background work end cleanly on every run (issue 15: `bsq-train`
/// died with SIGSEGV at exit in about a third of its runs, because the batch
/// prefetcher was still inside OpenBLAS while the process ran its exit-time
/// destructors). Each configuration runs many times, and every run must end
/// with exactly the status it owes: 0, 1 for a batch with a bad input, 130
/// after SIGINT.
final class CleanExitCLITests: XCTestCase {
    /// The clips `TrainCLITests` trains on, and a long recording that keeps
    /// the prefetcher analysing audio when the run ends.
    func data(_ dir: TempDir) throws -> (clips: String, long: String) {
        let clips = dir.path("clips"), long = dir.path("long")
        for d in [clips, long] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        for f in ["long8k_flac.flac", "flac16k_stereo.flac", "mp3_22k_stereo.mp3", "short16k_800.wav", "opus48k_mono.opus"] {
            try FileManager.default.copyItem(atPath: Repo.fixture("mel/" + f).path, toPath: clips + "/" + f)
        }
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 90, rate: 16000), rate: 16000, to: long + "/voice.wav")
        return (clips, long)
    }

    func testTrainingExitsCleanlyEveryTime() throws {
        let dir = TempDir()
        let (clips, long) = try data(dir)
        let val = Repo.fixture("mel/short16k_800.wav").path
        var runs = 0
        func train(_ extra: [String], data: String, seed: Int) throws {
            let out = dir.path("run\(runs)")
            let r = try Tool.run("bsq-train", ["train", "-q", "--batch", "2", "--seed", "\(seed)", "-o", out] + TrainCLITests.micro + extra + [data])
            XCTAssertEqual(r.status, 0, "run \(runs) \(extra): \(r.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
            try? FileManager.default.removeItem(atPath: out)
            runs += 1
        }
        // the configuration of the report (validation, a run's last batches in flight)
        for seed in 0..<12 {
            try train(["--steps", "30", "--val", val, "--set", "train.val_every=15", "--set", "train.checkpoint_every=1000",
                       "--set", "train.warmup=10"], data: clips, seed: seed)
        }
        // the prefetcher busy analysing 90 s of audio per sample when the run ends
        for seed in 0..<12 { try train(["--steps", "2"], data: long, seed: seed) }
        // interrupted runs save and exit 130, whatever the prefetcher is doing
        for k in 0..<8 {
            let out = dir.path("cut\(k)")
            let p = Process()
            p.executableURL = Tool.binDir.appendingPathComponent("bsq-train")
            p.arguments = ["train", "-q", "--steps", "1000", "--batch", "2", "--seed", "\(k)", "-o", out] + TrainCLITests.micro + [long]
            p.standardError = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let t = try? String(contentsOfFile: out + "/log.jsonl", encoding: .utf8), t.split(separator: "\n").count >= 1 + k % 3 { break }
                usleep(2000)
            }
            p.interrupt()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .exit, "interrupted run \(k) died of a signal")
            XCTAssertEqual(p.terminationStatus, 128 + SIGINT, "interrupted run \(k)")
            XCTAssertEqual(Trainer.checkpoints(in: out).count, 1, "interrupted run \(k) saved no checkpoint")
            runs += 1
        }
        XCTAssertEqual(runs, 32)
    }

    /// Batch tools whose workers are still busy when one input fails.
    func testBatchToolsExitCleanlyWithWorkInFlight() throws {
        let dir = TempDir()
        let (clips, long) = try data(dir)
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: clips + "/broken.wav"))
        for k in 0..<10 {
            // the broken file fails at once while the other worker analyses 90 s of audio
            let mel = try Tool.run("mel", ["-q", "-j", "2", "-o", dir.path("out\(k).mel"), clips + "/broken.wav", long + "/voice.wav", clips])
            XCTAssertEqual(mel.status, 1, "mel run \(k): \(mel.stderr)")
            XCTAssertTrue(mel.stderr.contains("broken.wav"), mel.stderr)
        }
        try FileManager.default.removeItem(atPath: clips + "/broken.wav")
        let mel = try Tool.run("mel", ["-q", "-o", dir.path("all.mel"), clips, long])
        XCTAssertEqual(mel.status, 0, mel.stderr)
        for k in 0..<5 {
            // a pipe whose reader stops early: specaug's workers are mid-batch
            let r = try Tool.shell("specaug -j 2 --seed \(k) '\(dir.path("all.mel"))' | head -c 100 > /dev/null; echo ${PIPESTATUS[0]}")
            let status = String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(["0", "141"].contains(status), "specaug run \(k): \(status) \(r.stderr)")
        }
    }
}
