import BSQAudio
import Foundation
import TestSupport
import XCTest

final class SpecAugCLITests: XCTestCase {
    /// A mel frame like `mel`'s (top_db 80, values in [-80, 0]) with distinct values.
    func melFrame(_ key: String, frames: Int = 120, nMels: Int = 40, extra: JSONObject = JSONObject()) -> Frame {
        var meta = JSONObject()
        meta["kind"] = "mel"
        meta["key"] = .string(key)
        meta["axes"] = ["time", "mel"]
        meta["mel"] = ["hop_length": 160, "sample_rate": 16000, "n_mels": JSONValue(nMels),
                       "db": ["ref": "max", "amin": 1e-10, "top_db": 80]]
        for (k, v) in extra.pairs { meta[k] = v }
        let n = frames * nMels
        let values = (0..<n).map { -Float($0) * 70 / Float(n) }
        return Frame(values, dims: [frames, nMels], meta: meta)
    }

    func run(_ args: [String], _ frames: [Frame]) throws -> [Frame] {
        let r = try Tool.run("specaug", args, stdin: try encodeFrames(frames))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        return try decodeFrames(r.stdout)
    }

    func masks(_ record: JSONValue?, _ name: String) -> [(start: Int, width: Int)] {
        (record?[name]?.array ?? []).map { ($0.array![0].int!, $0.array![1].int!) }
    }

    func testPipelineFromMelMasksWithTheFloorAndRecordsTheMasks() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 1.5, rate: 16000), rate: 16000, to: dir.path("a.wav"))
        let r = try Tool.shell("mel '\(dir.path("a.wav"))' | specaug --seed 7 | bsq-tensor info --json")
        XCTAssertEqual(r.status, 0, r.stderr)
        let info = try JSONValue.parse(r.stdoutText.trimmingCharacters(in: .newlines))
        XCTAssertEqual(info["dims"], [151, 128])
        XCTAssertEqual(info["meta"]?["specaug"]?["seed"], 7)

        let original = try decodeFrames(try Tool.run("mel", [dir.path("a.wav")]).stdout)[0]
        let out = try run(["--seed", "7"], [original])[0]
        XCTAssertEqual(out.dims, original.dims)
        XCTAssertEqual(Array(out.meta.keys), Array(original.meta.keys) + ["specaug"], "every key kept, specaug added")
        for k in original.meta.keys { XCTAssertEqual(out.meta[k], original.meta[k], k) }
        let record = out.meta["specaug"]
        XCTAssertEqual(record?["fill"], -80, "the floor: max (0) − top_db (80)")
        XCTAssertEqual(record?["time_warp"], .null)
        let freq = masks(record, "freq_masks"), time = masks(record, "time_masks")
        XCTAssertEqual(freq.count, 2)
        XCTAssertEqual(time.count, 2)
        XCTAssertTrue(freq.allSatisfy { $0.width <= 12 && $0.start + $0.width <= 128 })
        XCTAssertTrue(time.allSatisfy { $0.width <= 15 && $0.start + $0.width <= 151 })
        XCTAssertTrue(freq.contains { $0.width > 0 } || time.contains { $0.width > 0 }, "seed 7 masks something")
        let x: [Float] = try original.values(), y: [Float] = try out.values()
        for t in 0..<151 {
            for f in 0..<128 {
                let covered = freq.contains { (f >= $0.start) && (f < $0.start + $0.width) }
                    || time.contains { (t >= $0.start) && (t < $0.start + $0.width) }
                let i = t * 128 + f
                XCTAssertEqual(y[i], covered ? -80 : x[i], "row \(t) bin \(f)")
                if y[i] != (covered ? -80 : x[i]) { return }
            }
        }
    }

    func testMasksDependOnSeedAndKeyNotOnPositionOrJobs() throws {
        let frames = (0..<12).map { melFrame("spk\($0 % 3)/utt\($0)", frames: 50 + 7 * $0) }
        let serial = try Tool.run("specaug", ["--seed", "3", "-j", "1", "--time-warp", "5"], stdin: try encodeFrames(frames))
        let parallel = try Tool.run("specaug", ["--seed", "3", "-j", "4", "--time-warp", "5"], stdin: try encodeFrames(frames))
        XCTAssertEqual(serial.status, 0, serial.stderr)
        XCTAssertEqual(parallel.stdout, serial.stdout, "parallel output is byte-identical to serial")

        let reversed = try run(["--seed", "3", "--time-warp", "5"], frames.reversed())
        let forward = try decodeFrames(serial.stdout)
        XCTAssertEqual(reversed.map(\.key), forward.map(\.key).reversed())
        for (a, b) in zip(forward, reversed.reversed()) {
            XCTAssertEqual(a.meta["specaug"], b.meta["specaug"], a.key ?? "")
            XCTAssertEqual(a.payload, b.payload, a.key ?? "")
        }
        XCTAssertEqual(Set(forward.map { $0.meta["specaug"]!.serialized() }).count, 12, "each key has its own masks")

        let again = try run(["--seed", "3", "--time-warp", "5"], [frames[4]])
        XCTAssertEqual(again[0].payload, forward[4].payload, "a frame alone gets the masks it got in the stream")
        let other = try run(["--seed", "4", "--time-warp", "5"], [frames[4]])
        XCTAssertNotEqual(other[0].meta["specaug"], forward[4].meta["specaug"], "another seed, other masks")
    }

    func testFillOptions() throws {
        let frame = melFrame("a")
        let x: [Float] = try frame.values()
        let mean = Float(x.reduce(0.0) { $0 + Double($1) } / Double(x.count))
        for (fill, want) in [("min", x.min()!), ("mean", mean), ("-55.5", -55.5), ("floor", -80)] {
            let out = try run(["--fill=\(fill)", "--time-masks", "1", "--freq-masks", "0", "--time-width", "1.0"], [frame])[0]
            XCTAssertEqual(out.meta["specaug"]?["fill"]?.number, Double(want), fill)
            let t = masks(out.meta["specaug"], "time_masks")[0]
            XCTAssertGreaterThan(t.width, 0, "seed 0 masks some rows of key a")
            let y: [Float] = try out.values()
            XCTAssertTrue(y[(t.start * 40)..<((t.start + t.width) * 40)].allSatisfy { $0 == want }, fill)
        }
        var noTopDB = melFrame("b")
        noTopDB.meta["mel"] = ["db": ["ref": 1.0, "amin": 1e-10, "top_db": .null]]
        let out = try run([], [noTopDB])[0]
        XCTAssertEqual(out.meta["specaug"]?["fill"]?.number, Double(x.min()!), "without top_db the floor is the minimum")
    }

    func testCountsWidthsAndTimeWarpOptions() throws {
        let out = try run(["--time-masks", "4", "--freq-masks", "3", "--freq-width", "27", "--time-width", "0.05",
                           "--time-warp", "10"], [melFrame("a", frames: 200, nMels: 80), melFrame("short", frames: 20)])
        let record = out[0].meta["specaug"]
        XCTAssertEqual(masks(record, "time_masks").count, 4)
        XCTAssertEqual(masks(record, "freq_masks").count, 3)
        XCTAssertTrue(masks(record, "time_masks").allSatisfy { $0.width <= 10 })
        XCTAssertTrue(masks(record, "freq_masks").allSatisfy { $0.width <= 27 })
        let warp = record?["time_warp"]
        XCTAssertEqual(warp?["window"], 10)
        XCTAssertTrue((10..<190).contains(warp?["center"]?.int ?? -1), "\(String(describing: warp))")
        XCTAssertTrue((-10...10).contains(warp?["shift"]?.int ?? 99))
        XCTAssertEqual(out[1].meta["specaug"]?["time_warp"], .null, "20 frames ≤ 2W: not warped")

        let plain = try run(["--time-masks", "0", "--freq-masks", "0"], [melFrame("a")])[0]
        XCTAssertEqual(plain.payload, melFrame("a").payload, "no masks, no warp: the values pass unchanged")
    }

    func testNonMelFramesAreRefused() throws {
        let codes = Frame([UInt32(1), 2], dims: [1, 2], meta: JSONObject(["kind": "codes", "key": "c"]))
        let r = try Tool.run("specaug", [], stdin: try encodeFrames([melFrame("a"), codes]))
        assertToolError(r, "specaug", contains: "frame 1 (c): not a mel frame: kind \"codes\", u32 [1,2]", status: 1)
        XCTAssertEqual(r.stderr, "specaug: frame 1 (c): not a mel frame: kind \"codes\", u32 [1,2] (expected kind \"mel\", f32 [frames, n_mels])\n")
        let f64 = Frame([Double(1)], dims: [1, 1], meta: JSONObject(["kind": "mel"]))
        assertToolError(try Tool.run("specaug", [], stdin: try encodeFrames([f64])), "specaug", contains: "frame 0: not a mel frame: kind \"mel\", f64 [1,1]", status: 1)
        let rank3 = Frame([Float](repeating: 0, count: 8), dims: [2, 2, 2], meta: JSONObject(["kind": "mel", "key": "x"]))
        assertToolError(try Tool.run("specaug", ["-j", "3"], stdin: try encodeFrames([rank3])), "specaug", contains: "frame 0 (x): not a mel frame", status: 1)
        assertToolError(try Tool.run("specaug", [], stdin: Array("this is not a stream of frames".utf8)), "specaug", contains: "bad magic", status: 1)
    }

    func testOutputFileIsAtomicAndZstd() throws {
        let dir = TempDir()
        try "precious".write(toFile: dir.path("out.mel"), atomically: true, encoding: .utf8)
        let codes = Frame([UInt32(1)], dims: [1, 1], meta: JSONObject(["kind": "codes"]))
        let bad = try Tool.run("specaug", ["-o", dir.path("out.mel")], stdin: try encodeFrames([melFrame("a"), codes]))
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(try String(contentsOfFile: dir.path("out.mel"), encoding: .utf8), "precious", "a failed run leaves what was there")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path("")), ["out.mel"], "no temporary left")

        try Data(try encodeFrames([melFrame("a"), melFrame("b")])).write(to: dir.url.appendingPathComponent("in.mel"))
        let good = try Tool.run("specaug", ["--zstd", "-o", dir.path("out.mel"), dir.path("in.mel")])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.isEmpty)
        let info = try Tool.run("bsq-tensor", ["info", dir.path("out.mel")])
        XCTAssertEqual(info.stdoutText.split(separator: "\n").map { $0.hasSuffix("\tzstd") }, [true, true])
        let plain = try Tool.run("specaug", [dir.path("in.mel")])
        XCTAssertEqual(try decodeFrames(try Repo.read(dir.path("out.mel"))).map(\.payload), try decodeFrames(plain.stdout).map(\.payload))
    }

    func testOptionsAreValidatedAndNamed() throws {
        let cases: [([String], String)] = [
            (["--time-masks=-1"], "--time-masks must be >= 0 (got -1)"),
            (["--freq-masks=-2"], "--freq-masks must be >= 0 (got -2)"),
            (["--time-width", "1.5"], "--time-width must be a fraction from 0 to 1 (like 0.1) or a count (like 100) (got 1.5)"),
            (["--freq-width", "wide"], "--freq-width must be a fraction from 0 to 1 (like 0.1) or a count (like 27) (got wide)"),
            (["--fill", "loud"], "--fill must be floor, min, mean or a number (got loud)"),
            (["--time-warp=-3"], "--time-warp must be >= 0 (got -3)"),
            (["--jobs", "0"], "--jobs must be > 0 (got 0)"),
        ]
        for (args, message) in cases {
            assertToolError(try Tool.run("specaug", args, stdin: try encodeFrames([melFrame("a")])), "specaug", contains: message, status: 64)
        }
    }
}
