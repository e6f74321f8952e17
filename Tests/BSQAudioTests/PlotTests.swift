import BSQAudio
import Foundation
import TestSupport
import XCTest

final class PlotTests: XCTestCase {
    /// A small image with every byte value in some channel and rows that favour different filters.
    func sampleImage(width: Int = 37, height: Int = 11) -> [UInt8] {
        var rng = SplitMix64(seed: 5)
        return (0..<(width * height * 3)).map { i in
            let x = i / 3 % width, y = i / 3 / width, c = i % 3
            switch y % 4 {
            case 0: return UInt8((x * 7 + c * 85) & 0xFF)        // a ramp (sub)
            case 1: return UInt8((y * 31 + c) & 0xFF)             // flat rows (up)
            case 2: return UInt8(truncatingIfNeeded: rng.next())  // noise
            default: return UInt8((x * y + c * 40) & 0xFF)
            }
        }
    }

    func testChecksumsMatchPublishedValues() {
        XCTAssertEqual(Deflate.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(Deflate.adler32([]), 1)
        // Sums over more than 5552 bytes of 0xFF must be reduced in time.
        var a = 1, b = 0
        let big = [UInt8](repeating: 0xFF, count: 100_000)
        for v in big { a = (a + Int(v)) % 65521; b = (b + a) % 65521 }
        XCTAssertEqual(Deflate.adler32(big), UInt32(b << 16 | a))
        // Every PNG ends with the same IEND chunk: length 0, "IEND", CRC AE 42 60 82.
        let png = PNG.encode(width: 1, height: 1, rgb: [1, 2, 3])
        XCTAssertEqual(Array(png.suffix(12)), [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
    }

    func testStoredPNGHasTheSpecifiedStructureAndPixels() throws {
        let rgb = sampleImage()
        let png = PNG.encode(width: 37, height: 11, rgb: rgb, compression: .stored)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR: length 13, then width and height big-endian, depth 8, colour type 2, 0, 0, 0.
        XCTAssertEqual(Array(png[8..<29]),
                       [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 37, 0, 0, 0, 11, 8, 2, 0, 0, 0])
        let decoded = try DecodedPNG(png)
        XCTAssertEqual(decoded.chunks, ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual(decoded.blockTypes, [0])
        XCTAssertEqual(decoded.rgb, rgb)

        // A stored stream longer than one block (65535 bytes) is cut into blocks.
        let wide = [UInt8](repeating: 200, count: 200 * 120 * 3)
        let many = try DecodedPNG(PNG.encode(width: 200, height: 120, rgb: wide, compression: .stored))
        XCTAssertEqual(many.blockTypes, [0, 0])
        XCTAssertEqual(many.rgb, wide)
    }

    func testFixedHuffmanPNGDecodesToTheSamePixelsAndIsSmaller() throws {
        let rgb = sampleImage(width: 300, height: 90)
        let png = PNG.encode(width: 300, height: 90, rgb: rgb)
        let decoded = try DecodedPNG(png)
        XCTAssertEqual(decoded.blockTypes, [1])
        XCTAssertEqual(decoded.rgb, rgb)
        XCTAssertLessThan(png.count, PNG.encode(width: 300, height: 90, rgb: rgb, compression: .stored).count / 2)

        // Long runs: matches of the longest length (258) at distance 1 and far back in the window.
        var runs = [UInt8](repeating: 9, count: 3 * 2000 * 20)
        for i in stride(from: 0, to: runs.count, by: 1777) { runs[i] = UInt8(i % 251) }
        XCTAssertEqual(try DecodedPNG(PNG.encode(width: 2000, height: 20, rgb: runs)).rgb, runs)
    }

    func testPythonReadsThePNGWhenPillowIsThere() throws {
        let dir = TempDir()
        let rgb = sampleImage(width: 50, height: 20)
        try Data(PNG.encode(width: 50, height: 20, rgb: rgb)).write(to: URL(fileURLWithPath: dir.path("a.png")))
        let check = try Tool.shell("python3 -c 'import PIL' 2>/dev/null")
        try XCTSkipIf(check.status != 0, "python3 with Pillow is not installed")
        let r = try Tool.shell("python3 -c \"from PIL import Image; im = Image.open('\(dir.path("a.png"))'); "
            + "print(im.size, im.mode, sum(im.tobytes()))\"")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdoutText, "(50, 20) RGB \(rgb.reduce(0) { $0 + Int($1) })\n")
    }

    func testNiceTicksAndLabels() {
        XCTAssertEqual(Axis.niceStep(0.13), 0.2)
        XCTAssertEqual(Axis.niceStep(3), 5)
        XCTAssertEqual(Axis.niceStep(7), 10)
        XCTAssertEqual(Axis.niceStep(1000), 1000)
        let steps = Axis.linear(0, 20000, target: 8)
        XCTAssertEqual(steps.ticks, [0, 5000, 10000, 15000, 20000])
        XCTAssertEqual(steps.ticks.map { steps.label($0, compact: true) }, ["0", "5k", "10k", "15k", "20k"])
        let lr = Axis.linear(0, 3e-4, target: 5)
        XCTAssertEqual(lr.ticks.map { lr.label($0) }, ["0", "1e-4", "2e-4", "3e-4"])
        let loss = Axis.linear(0.05, 0.38, target: 5)
        XCTAssertEqual(loss.ticks.map { loss.label($0) }, ["0.1", "0.2", "0.3"])
        let log = Axis.logarithmic(0.002, 30)
        XCTAssertEqual(log.ticks.map { log.label($0) }, ["0.01", "0.1", "1", "10"])
        let narrow = Axis.logarithmic(0.15, 0.9)
        XCTAssertEqual(narrow.ticks.map { narrow.label($0) }, ["0.2", "0.5"])
        XCTAssertEqual(Axis.linear(5, 5).ticks.count > 1, true, "an empty range is widened")
    }

    func testTrainingLogReadsTrainAndValidationLines() throws {
        let text = """
            {"kind":"config","preset":"tiny"}
            {"step":0,"loss":1.0,"lr":0,"note":"warmup"}

            {"kind":"train","step":10,"loss":0.5,"lr":1e-4,"grad_norm":null}
            {"kind":"val","step":10,"l1_db":6.5,"val_lsd":9,"entropy":15}
            {"step":20,"loss":0.25,"lr":2e-4,"epoch":1}
            """
        let log = try TrainingLog(Array(text.utf8), name: "run.jsonl")
        XCTAssertEqual(log.keys, ["loss", "lr", "grad_norm", "val_l1_db", "val_lsd", "val_entropy", "epoch"])
        XCTAssertEqual(log.points["loss"]!.map(\.x), [0, 10, 20])
        XCTAssertEqual(log.points["loss"]!.map(\.y), [1, 0.5, 0.25])
        XCTAssertTrue(log.points["grad_norm"]![0].y.isNaN)
        XCTAssertEqual(log.points["val_l1_db"]!.map(\.y), [6.5])
        let panels = TrainingLog.defaultPanels([log])
        XCTAssertEqual(panels.map(\.title), ["training loss", "reconstruction (dB)", "learning rate", "gradient norm",
                                             "code entropy (bits)", "epoch"])
        XCTAssertEqual(panels[1].keys, ["val_l1_db", "val_lsd"])
        XCTAssertEqual(panels[4].keys, ["val_entropy"])
        XCTAssertEqual(TrainingLog.labels(["a/run.jsonl", "b/other.jsonl", "-"]), ["run", "other", "stdin"])
        XCTAssertEqual(TrainingLog.labels(["a/run.jsonl", "b/run.jsonl"]), ["a/run.jsonl", "b/run.jsonl"])
    }

    func testMalformedLogLinesAreErrorsThatNameTheLine() {
        for (text, message) in [("{\"step\":1}\n\n{\"step\":2,", "log: line 3: invalid JSON"),
                                ("{\"step\":1}\n[1]", "log: line 2: not a JSON object"),
                                ("{\"loss\":1}", "log: line 1: no number at \"step\""),
                                ("{\"step\":\"1\"}", "log: line 1: no number at \"step\""),
                                ("{\"step\":1,\"kind\":3}", "log: line 1: \"kind\" is not a string")] {
            XCTAssertThrowsError(try TrainingLog(Array(text.utf8), name: "log")) { e in
                XCTAssertTrue("\(e)".hasPrefix(message), "\(e)")
            }
        }
    }

    func testTextIsDrawnWhereAsked() {
        var canvas = Canvas(width: 120, height: 40)
        let w = BitmapFont.regular.width("Step 42")
        XCTAssertGreaterThan(w, 30)
        canvas.text("Step 42", x: 10, y: 5)
        var inked: [(Int, Int)] = []
        for y in 0..<40 { for x in 0..<120 where canvas[x, y] != .white { inked.append((x, y)) } }
        XCTAssertFalse(inked.isEmpty)
        XCTAssertGreaterThanOrEqual(inked.map(\.0).min()!, 10)
        XCTAssertLessThanOrEqual(inked.map(\.0).max()!, 10 + w)
        XCTAssertGreaterThanOrEqual(inked.map(\.1).min()!, 5)
        XCTAssertLessThan(inked.map(\.1).max()!, 5 + BitmapFont.regular.height)
        XCTAssertTrue(inked.contains { canvas[$0.0, $0.1] == .ink }, "glyph cores are fully inked")
    }

    func testLinePlotDrawsEachSeriesInItsColour() {
        let flat = LinePlot.Series(name: "a", points: (0...100).map { (Double($0), 1.0) }, color: LinePlot.palette[0])
        let ramp = LinePlot.Series(name: "b", points: (0...100).map { (Double($0), Double($0) / 50) }, color: LinePlot.palette[1])
        let canvas = LinePlot(title: "t", xLabel: "step", panels: [.init(title: "p", series: [flat, ramp])]).render()
        func near(_ a: RGB, _ b: RGB) -> Bool {
            abs(Int(a.r) - Int(b.r)) + abs(Int(a.g) - Int(b.g)) + abs(Int(a.b) - Int(b.b)) < 40
        }
        var count = [0, 0]
        for y in 0..<canvas.height {
            for x in 0..<canvas.width {
                if near(canvas[x, y], LinePlot.palette[0]) { count[0] += 1 }
                if near(canvas[x, y], LinePlot.palette[1]) { count[1] += 1 }
            }
        }
        XCTAssertGreaterThan(count[0], 500, "the flat line spans the plot")
        XCTAssertGreaterThan(count[1], 500)
    }

    func testSpectrogramPutsLowBinsAtTheBottomOnTheFixedScale() {
        // Bin 0 at 0 dB (top of the map), bins 1...7 at -40 dB (its middle), 100 frames.
        let values = (0..<(100 * 8)).map { $0 % 8 == 0 ? Float(0) : -40 }
        let canvas = SpectrogramPlot(panels: [.init(title: "x", values: values, frames: 100, nMels: 8)]).render()
        let top = Colormap.viridis.color(1), middle = Colormap.viridis.color(0.5)
        var topRows = Set<Int>(), middleRows = Set<Int>()
        for y in 0..<canvas.height {
            for x in 0..<(canvas.width / 2) {
                if canvas[x, y] == top { topRows.insert(y) }
                if canvas[x, y] == middle { middleRows.insert(y) }
            }
        }
        XCTAssertEqual(topRows.count, 32, "bin 0 is 256 / 8 pixels high")
        XCTAssertEqual(middleRows.count, 7 * 32)
        XCTAssertGreaterThan(topRows.min()!, middleRows.max()!, "bin 0 is below the others")
    }

    /// A constant series smoothed differs from itself by rounding: the axis must not
    /// try to put ticks 1e-14 apart.
    func testAxisOfARangeNarrowerThanRounding() {
        let a = Axis.linear(1205.140794223827, 1205.1407942238271)
        XCTAssertLessThan(a.ticks.count, 20)
        XCTAssertLessThan(a.lo, 1205.14)
        XCTAssertGreaterThan(a.hi, 1205.15)
    }
}
