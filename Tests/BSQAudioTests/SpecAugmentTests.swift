import BSQAudio
import Foundation
import XCTest

final class SpecAugmentTests: XCTestCase {
    /// A spectrogram whose every value is distinct and above any fill used here.
    func ramp(_ frames: Int, _ nMels: Int) -> [Float] {
        (0..<(frames * nMels)).map { Float($0) * 0.001 - 40 }
    }

    /// The cells that `applied` masks.
    func masked(_ a: SpecAugment.Applied, frames: Int, nMels: Int) -> Set<Int> {
        var cells = Set<Int>()
        for m in a.freqMasks { for t in 0..<frames { for f in m.start..<(m.start + m.width) { cells.insert(t * nMels + f) } } }
        for m in a.timeMasks { for i in (m.start * nMels)..<((m.start + m.width) * nMels) { cells.insert(i) } }
        return cells
    }

    func testMasksStayWithinTheirBoundsAndChangeOnlyWhatTheyCover() {
        let (frames, nMels) = (200, 128)
        let x = ramp(frames, nMels)
        let augment = SpecAugment(fill: .value(-99))
        var widest = (time: 0, freq: 0)
        for k in 0..<500 {
            var rng = SpecAugment.generator(seed: 1, key: "utt\(k)")
            let (y, a) = augment.apply(x, frames: frames, nMels: nMels, topDB: 80, rng: &rng)
            XCTAssertEqual(a.freqMasks.count, 2)
            XCTAssertEqual(a.timeMasks.count, 2)
            XCTAssertNil(a.warp)
            for m in a.freqMasks {
                XCTAssertTrue(m.width >= 0 && m.width <= 12 && m.start >= 0 && m.start + m.width <= nMels, "\(m)")
                widest.freq = max(widest.freq, m.width)
            }
            for m in a.timeMasks {
                XCTAssertTrue(m.width >= 0 && m.width <= 20 && m.start >= 0 && m.start + m.width <= frames, "\(m)")
                widest.time = max(widest.time, m.width)
            }
            let cells = masked(a, frames: frames, nMels: nMels)
            for i in 0..<x.count where (y[i] == -99) != cells.contains(i) || (!cells.contains(i) && y[i] != x[i]) {
                XCTFail("cell \(i) of utt\(k): \(x[i]) became \(y[i])")
                break
            }
        }
        XCTAssertEqual(widest.freq, 12, "widths reach floor(0.1 · 128)")
        XCTAssertEqual(widest.time, 20, "widths reach floor(0.1 · 200)")
    }

    func testWidthsAsCountsAndFractions() {
        XCTAssertEqual(SpecAugment.Width("27"), .count(27))
        XCTAssertEqual(SpecAugment.Width("0.1"), .fraction(0.1))
        XCTAssertEqual(SpecAugment.Width("1.0"), .fraction(1))
        XCTAssertEqual(SpecAugment.Width("1e-1"), .fraction(0.1))
        XCTAssertNil(SpecAugment.Width("1.5"))
        XCTAssertNil(SpecAugment.Width("-2"))
        XCTAssertNil(SpecAugment.Width("wide"))
        XCTAssertEqual(SpecAugment.Width.count(27).limit(80), 27)
        XCTAssertEqual(SpecAugment.Width.count(500).limit(80), 80)
        XCTAssertEqual(SpecAugment.Width.fraction(0.1).limit(128), 12)
        XCTAssertEqual(SpecAugment.Width.fraction(1).limit(7), 7)

        let augment = SpecAugment(timeMasks: 5, freqMasks: 5, timeWidth: .count(3), freqWidth: .count(100))
        var seen = Set<Int>()
        for k in 0..<200 {
            var rng = SpecAugment.generator(seed: 9, key: "\(k)")
            let (_, a) = augment.apply(ramp(50, 10), frames: 50, nMels: 10, topDB: nil, rng: &rng)
            XCTAssertTrue(a.timeMasks.allSatisfy { $0.width <= 3 })
            XCTAssertTrue(a.freqMasks.allSatisfy { $0.start + $0.width <= 10 })
            seen.formUnion(a.freqMasks.map(\.width))
        }
        XCTAssertEqual(seen, Set(0...10), "a count above the axis is the whole axis")
    }

    func testFillValues() {
        let x: [Float] = [-3, -10, -50, -20]
        XCTAssertEqual(SpecAugment.fillValue(.floor, of: x, topDB: 80), -83, "max − top_db")
        XCTAssertEqual(SpecAugment.fillValue(.floor, of: x, topDB: nil), -50, "without top_db: the minimum")
        XCTAssertEqual(SpecAugment.fillValue(.min, of: x, topDB: 80), -50)
        XCTAssertEqual(SpecAugment.fillValue(.mean, of: x, topDB: 80), -20.75)
        XCTAssertEqual(SpecAugment.fillValue(.value(-42.5), of: x, topDB: 80), -42.5)
        XCTAssertEqual(SpecAugment.Fill("mean"), .mean)
        XCTAssertEqual(SpecAugment.Fill("-80"), .value(-80))
        XCTAssertNil(SpecAugment.Fill("nan"))
        XCTAssertNil(SpecAugment.Fill("loud"))

        // the fill is what the masked cells hold, computed before anything is masked
        let augment = SpecAugment(timeMasks: 3, freqMasks: 3, timeWidth: .fraction(0.5), freqWidth: .fraction(0.5), fill: .mean)
        var rng = SpecAugment.generator(seed: 3, key: "k")
        let values = ramp(40, 8)
        let (y, a) = augment.apply(values, frames: 40, nMels: 8, topDB: nil, rng: &rng)
        let mean = Float(values.reduce(0.0) { $0 + Double($1) } / Double(values.count))
        XCTAssertEqual(a.fill, mean)
        let cells = masked(a, frames: 40, nMels: 8)
        XCTAssertFalse(cells.isEmpty)
        XCTAssertTrue(cells.allSatisfy { y[$0] == mean })
    }

    func testMasksDependOnlyOnSeedAndKey() {
        let augment = SpecAugment(timeWarp: 5)
        let x = ramp(100, 40)
        func run(_ seed: UInt64, _ key: String) -> ([Float], SpecAugment.Applied) {
            var rng = SpecAugment.generator(seed: seed, key: key)
            return augment.apply(x, frames: 100, nMels: 40, topDB: 80, rng: &rng)
        }
        let a = run(7, "84/121123/84-121123-0000")
        let b = run(7, "84/121123/84-121123-0000")
        XCTAssertEqual(a.1, b.1)
        XCTAssertTrue(a.0 == b.0)
        let others = (0..<8).map { run(7, "84/121123/84-121123-000\($0 + 1)").1 } + (8..<16).map { run(UInt64($0), "84/121123/84-121123-0000").1 }
        XCTAssertTrue(others.allSatisfy { $0 != a.1 }, "other keys and other seeds draw other masks")
        // not the generator `mel --crop random` starts from with the same seed
        var crop = SplitMix64(seed: 7 ^ fnv1a("k"))
        var mine = SpecAugment.generator(seed: 7, key: "k")
        XCTAssertNotEqual(crop.next(), mine.next())
    }

    func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    func testTimeWarpMatchesTorchInterpolate() {
        // x[t, f] = t² + 10 f, T = 9, F = 2; each piece resized with
        // torch.nn.functional.interpolate(x[:, :, piece], size=n, mode="linear", align_corners=False)
        let x: [Float] = (0..<9).flatMap { (t: Int) -> [Float] in [Float(t * t), Float(t * t + 10)] }
        let torch: [(center: Int, warped: Int, column0: [Float])] = [
            (4, 6, [0.0, 0.5, 1.5, 3.5, 6.5, 9.0, 19.0, 36.0, 58.999996]),
            (5, 2, [0.75, 10.75, 25.0, 28.928572, 35.214287, 42.5, 50.07143, 58.64286, 64.0]),
            (3, 0, [9.0, 12.5, 17.5, 23.5, 30.5, 38.166668, 46.833336, 56.5, 64.0]),
        ]
        for (c, d, column0) in torch {
            let y = SpecAugment.warpTime(x, frames: 9, nMels: 2, center: c, warped: d)
            for t in 0..<9 {
                XCTAssertEqual(y[2 * t], column0[t], accuracy: 1e-4, "center \(c) warped \(d) row \(t)")
                XCTAssertEqual(y[2 * t + 1], column0[t] + 10, accuracy: 1e-4)
            }
        }
    }

    func testTimeWarpProperties() {
        let (frames, nMels) = (60, 3)
        let x = (0..<frames).flatMap { t in (0..<nMels).map { f in Float(t * t) * 0.1 - Float(f) } }
        XCTAssertTrue(SpecAugment.warpTime(x, frames: frames, nMels: nMels, center: 25, warped: 25) == x, "no shift, no change")
        let flat = [Float](repeating: -17, count: frames * nMels)
        XCTAssertTrue(SpecAugment.warpTime(flat, frames: frames, nMels: nMels, center: 20, warped: 30).allSatisfy { $0 == -17 })

        let augment = SpecAugment(timeMasks: 0, freqMasks: 0, timeWarp: 10)
        var shifts = Set<Int>()
        var centers = Set<Int>()
        for k in 0..<400 {
            var rng = SpecAugment.generator(seed: 5, key: "\(k)")
            let (y, a) = augment.apply(x, frames: frames, nMels: nMels, topDB: nil, rng: &rng)
            guard let w = a.warp else { return XCTFail("no warp recorded") }
            XCTAssertTrue((10..<50).contains(w.center) && (-10...10).contains(w.shift), "\(w)")
            XCTAssertEqual(w.window, 10)
            centers.insert(w.center)
            shifts.insert(w.shift)
            XCTAssertTrue(y == SpecAugment.warpTime(x, frames: frames, nMels: nMels, center: w.center, warped: w.warped))
            for f in 0..<nMels {
                let column = (0..<frames).map { y[$0 * nMels + f] }
                XCTAssertEqual(column, column.sorted(), "an increasing row order stays increasing")
                let (lo, hi) = (x[f], x[(frames - 1) * nMels + f])
                XCTAssertTrue(column.allSatisfy { $0 >= lo - 1e-4 && $0 <= hi + 1e-4 }, "values stay in range")
            }
        }
        XCTAssertEqual(shifts, Set(-10...10))
        XCTAssertEqual(centers, Set(10..<50))

        var rng = SpecAugment.generator(seed: 5, key: "short")
        XCTAssertNil(augment.apply(ramp(20, 3), frames: 20, nMels: 3, topDB: nil, rng: &rng).applied.warp, "T ≤ 2W: no warp")
    }

    func testFramesKeepTheirMetadataAndRecordTheMasks() throws {
        var meta = JSONObject()
        meta["kind"] = "mel"
        meta["key"] = "a/b"
        meta["mel"] = ["db": ["top_db": 80]]
        meta["custom"] = [1, 2]
        let frame = Frame(ramp(30, 10), dims: [30, 10], meta: meta)
        let out = try SpecAugment(timeWarp: 4).apply(to: frame, seed: 11)
        XCTAssertEqual(out.dims, [30, 10])
        XCTAssertEqual(Array(out.meta.keys), ["kind", "key", "mel", "custom", "specaug"])
        let record = out.meta["specaug"]!
        XCTAssertEqual(record["seed"], 11)
        XCTAssertEqual(record["fill"]?.number, Double(Float(Double(ramp(30, 10).max()!) - 80)), "max − top_db")
        var rng = SpecAugment.generator(seed: 11, key: "a/b")
        let (values, applied) = SpecAugment(timeWarp: 4).apply(ramp(30, 10), frames: 30, nMels: 10, topDB: 80, rng: &rng)
        XCTAssertTrue(try out.values(as: Float.self) == values)
        XCTAssertEqual(record, applied.metadata(seed: 11))
        XCTAssertEqual(record["freq_masks"]?.array?.count, 2)
        XCTAssertEqual(record["time_warp"]?["center"]?.int, applied.warp?.center)
        XCTAssertEqual(applied.metadata(seed: 1 << 60)["seed"], .string("1152921504606846976"))

        XCTAssertThrowsError(try SpecAugment().apply(to: Frame([UInt32(1)], dims: [1, 1], meta: JSONObject(["kind": "codes"])), seed: 0)) {
            XCTAssertTrue("\($0)".contains("not a mel frame: kind \"codes\", u32 [1,1]"), "\($0)")
        }
    }
}
