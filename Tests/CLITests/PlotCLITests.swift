import BSQAudio
import Foundation
import TestSupport
import XCTest

final class PlotCLITests: XCTestCase {
    /// A log as bsq-train writes it: a config line, training lines, validation every 100 steps.
    func trainingLog(steps: Int = 500) -> String {
        var lines = [#"{"kind":"config","preset":"tiny"}"#]
        for s in stride(from: 0, through: steps, by: 10) {
            let l1 = 0.3 * exp(-Double(s) / 200) + 0.05
            lines.append(#"{"kind":"train","step":\#(s),"loss":\#(l1 + 0.02),"l1":\#(l1),"commit":0.01,"h_ps":0.02,"h_cb":-0.01,"lr":\#(3e-4 * min(1, Double(s) / 100)),"grad_norm":\#(1 + 0.5 * sin(Double(s))),"code_entropy":\#(17 - exp(-Double(s) / 100)),"steps_per_s":3.2}"#)
            if s % 100 == 0 {
                lines.append(#"{"kind":"val","step":\#(s),"l1_db":\#(3 + 5 * exp(-Double(s) / 300)),"lsd":\#(4 + 6 * exp(-Double(s) / 300)),"entropy":16.5}"#)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func melFrame(_ key: String, frames: Int, nMels: Int, kind: String = "mel") -> Frame {
        var meta = JSONObject()
        meta["kind"] = .string(kind)
        meta["key"] = .string(key)
        meta["mel"] = ["hop_length": 160, "sample_rate": 16000, "n_mels": JSONValue(nMels)]
        let values = (0..<(frames * nMels)).map { i in -80 * Float(i % nMels) / Float(nMels) }
        return Frame(values, dims: [frames, nMels], meta: meta)
    }

    func image(_ path: String) throws -> DecodedPNG { try DecodedPNG(try Repo.read(path)) }

    func testCurvesDrawOnePanelPerQuantityByDefault() throws {
        let dir = TempDir()
        try trainingLog().write(toFile: dir.path("train.jsonl"), atomically: true, encoding: .utf8)
        let r = try Tool.run("bsq-plot", ["curves", dir.path("train.jsonl"), "-o", dir.path("all.png"), "--title", "tiny"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.stdout, [], "nothing on stdout")
        let all = try image(dir.path("all.png"))
        XCTAssertEqual(all.width, 1000)

        // One panel of chosen keys from two logs, one of them on stdin, with a log y axis.
        let one = try Tool.run("bsq-plot", ["curves", "--keys", "loss,l1", "--log-y", "--smooth", "0.6", "--title", "tiny",
                                            dir.path("train.jsonl"), "-", "-o", dir.path("one.png")],
                               stdin: Array(trainingLog(steps: 300).utf8))
        XCTAssertEqual(one.status, 0, one.stderr)
        let small = try image(dir.path("one.png"))
        XCTAssertEqual(small.width, 1000)
        // Seven default panels (loss, quantizer entropies, reconstruction dB, lr, grad norm,
        // code entropy, steps/s) against one.
        let perPanel = (all.height - small.height) / 6
        XCTAssertGreaterThan(perPanel, 200)
        XCTAssertEqual(all.height - small.height, 6 * perPanel, "panels all have one height")
    }

    func testMelPanelsFromAPipeAndAFile() throws {
        let dir = TempDir()
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 1.2, rate: 16000), rate: 16000, to: dir.path("a.wav"))
        let r = try Tool.shell("mel '\(dir.path("a.wav"))' | tee '\(dir.path("a.mel"))' | "
            + "bsq-plot mel - '\(dir.path("a.mel"))' --label original --title 'a vs a' -o '\(dir.path("a.png"))'")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let two = try image(dir.path("a.png"))
        let one = try Tool.run("bsq-plot", ["mel", dir.path("a.mel"), "-o", dir.path("b.png"), "--colormap", "magma"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let single = try image(dir.path("b.png"))
        XCTAssertEqual(two.width, single.width)
        XCTAssertGreaterThan(two.height - single.height, 256, "a second 128-bin image, 256 pixels high")
        XCTAssertGreaterThan(Set(stride(from: 0, to: single.rgb.count, by: 3).map { single.rgb[$0] }).count, 100, "an image, not a blank")
    }

    func testFrameChosenByIndexOrKey() throws {
        let dir = TempDir()
        let stream = try encodeFrames([melFrame("a", frames: 50, nMels: 16), melFrame("b", frames: 200, nMels: 16)])
        try Data(stream).write(to: URL(fileURLWithPath: dir.path("s.mel")))
        for args in [["--frame", "1"], ["--key", "b"]] {
            let r = try Tool.run("bsq-plot", ["mel", dir.path("s.mel"), "-o", dir.path("x.png")] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        assertToolError(try Tool.run("bsq-plot", ["mel", dir.path("s.mel"), "--frame", "2", "-o", dir.path("x.png")]),
                        "bsq-plot", contains: "s.mel: no frame 2 (the stream has 2)")
        assertToolError(try Tool.run("bsq-plot", ["mel", dir.path("s.mel"), "--key", "c", "-o", dir.path("x.png")]),
                        "bsq-plot", contains: "no frame has key c")
    }

    func testErrorsAreOneLineAndLeaveNoImage() throws {
        let dir = TempDir()
        try "{\"step\":1,\"loss\":0.5}\n\n{\"step\":2,\"loss\":\n".write(toFile: dir.path("bad.jsonl"), atomically: true, encoding: .utf8)
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir.path("keep.png")))
        var r = try Tool.run("bsq-plot", ["curves", dir.path("bad.jsonl"), "-o", dir.path("keep.png")])
        assertToolError(r, "bsq-plot", contains: "bad.jsonl: line 3: invalid JSON", status: 1)
        XCTAssertEqual(try Repo.read(dir.path("keep.png")), Array("old".utf8), "a failed run leaves the old file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted(), ["bad.jsonl", "keep.png"],
                       "no temporary file is left")

        let codes = melFrame("utt", frames: 4, nMels: 8, kind: "codes")
        r = try Tool.run("bsq-plot", ["mel", "-", "-o", dir.path("c.png")], stdin: try encodeFrames([codes]))
        assertToolError(r, "bsq-plot", contains: "stdin: frame 0 (utt): not a mel frame: kind \"codes\"", status: 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("c.png")))

        r = try Tool.run("bsq-plot", ["curves", dir.path("bad.jsonl")])
        assertToolError(r, "bsq-plot", contains: "--output", status: 64)
        r = try Tool.run("bsq-plot", ["mel", "a.mel"])
        assertToolError(r, "bsq-plot", contains: "--output", status: 64)
        r = try Tool.run("bsq-plot", ["mel", "-", "-", "-o", dir.path("x.png")])
        assertToolError(r, "bsq-plot", contains: "standard input (-) can be read only once", status: 64)
        r = try Tool.run("bsq-plot", ["mel", "a.mel", "--db-min=0", "--db-max=-10", "-o", dir.path("x.png")])
        assertToolError(r, "bsq-plot", contains: "--db-max must be above --db-min", status: 64)
        try "{\"step\":1,\"loss\":0.5}\n".write(toFile: dir.path("ok.jsonl"), atomically: true, encoding: .utf8)
        r = try Tool.run("bsq-plot", ["curves", "--keys", "lr", dir.path("ok.jsonl"), "-o", dir.path("x.png")])
        assertToolError(r, "bsq-plot", contains: "no log has the key lr", status: 1)
    }
}
