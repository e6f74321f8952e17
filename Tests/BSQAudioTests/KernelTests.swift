import BSQAudio
import Foundation
import XCTest

/// The vectorized kernels against double-precision references, at every
/// length around the eight-lane blocks (tails included).
final class KernelTests: XCTestCase {
    func testSoftmaxRowsMatchDoublePrecisionAtEveryTailLength() {
        var rng = SplitMix64(seed: 7)
        for cols in [1, 2, 5, 7, 8, 9, 15, 16, 17, 64, 515] {
            let rows = 3
            var x = (0..<(rows * cols)).map { _ in Float(rng.uniform() * 30 - 15) }
            if cols > 3 { x[cols + 2] = -.infinity }      // a masked score: probability 0
            let input = x
            x.withUnsafeMutableBufferPointer { Activations.softmax($0.baseAddress!, rows: rows, cols: cols) }
            for r in 0..<rows {
                let row = input[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let m = row.max()!, z = row.reduce(0) { $0 + exp($1 - m) }
                for c in 0..<cols {
                    let want = exp(row[c] - m) / z, got = Double(x[r * cols + c])
                    XCTAssertEqual(got, want, accuracy: 2e-6 * want + 1e-30, "cols \(cols) row \(r) col \(c)")
                }
            }
            // backward: dz = p ⊙ (g − ⟨g, p⟩)
            let g = (0..<(rows * cols)).map { _ in Float(rng.uniform() * 2 - 1) }
            var dz = g
            dz.withUnsafeMutableBufferPointer { Activations.softmaxBackward($0.baseAddress!, p: x, rows: rows, cols: cols) }
            for r in 0..<rows {
                let o = r * cols
                let dot = (0..<cols).reduce(0.0) { $0 + Double(g[o + $1]) * Double(x[o + $1]) }
                for c in 0..<cols {
                    let want = Double(x[o + c]) * (Double(g[o + c]) - dot)
                    XCTAssertEqual(Double(dz[o + c]), want, accuracy: 1e-6, "backward cols \(cols) row \(r) col \(c)")
                }
            }
        }
    }

    func testLogAndReciprocalFromOneDivision() {
        // the product entropy's range: x + 1e-8 for x in [0, 1], and beyond
        var worstLn = 0.0, worstRecip = 0.0
        var v = 1e-8
        while v < 1e3 {
            let x = SIMD8<Float>((0..<8).map { Float(v * (1 + Double($0) / 8)) })
            let (l, r) = FastLog.lnAndReciprocal(x)
            for i in 0..<8 {
                let xi = Double(x[i])
                worstLn = max(worstLn, abs(Double(l[i]) - log(xi)) / max(1, abs(log(xi))))
                worstRecip = max(worstRecip, abs(Double(r[i]) * xi - 1))
            }
            v *= 1.37
        }
        XCTAssertLessThan(worstLn, 3e-7, "ln relative (absolute below 1)")
        XCTAssertLessThan(worstRecip, 3e-7, "1/x relative")
        let a = FastLog.ln(SIMD8<Float>(repeating: 0.3)), b = FastLog.lnAndReciprocal(SIMD8<Float>(repeating: 0.3)).ln
        XCTAssertEqual(a[0], b[0], accuracy: 1e-7)
    }
}

/// The loader's branch-free finiteness scan finds every non-finite value,
/// wherever it sits (a vector block, the tail, a later block), and passes
/// every finite one (largest, subnormal, negative zero).
final class FiniteScanTests: XCTestCase {
    func testEveryNonFiniteValueIsFoundAndEveryFiniteOnePasses() throws {
        let n = (1 << 14) + 37
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("finite-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func scan(_ values: [Float]) throws {
            let header = Array("{\"w\":{\"dtype\":\"F32\",\"shape\":[\(values.count)],\"data_offsets\":[0,\(4 * values.count)]}}".utf8)
            var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
            let path = dir.appendingPathComponent("w.safetensors").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let st = try SafeTensors(path: path)
            try st.checkFinite(st.entry("w")!)
        }
        var finite = [Float](repeating: 1, count: n)
        finite[3] = .greatestFiniteMagnitude; finite[17] = -.greatestFiniteMagnitude
        finite[40] = .leastNonzeroMagnitude; finite[41] = -0.0; finite[n - 1] = -.greatestFiniteMagnitude
        XCTAssertNoThrow(try scan(finite))
        for bad in [Float.nan, -Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7FC0_0001)] {
            for at in [0, 15, 16, 1000, (1 << 14) - 1, 1 << 14, n - 1] {
                var v = finite
                v[at] = bad
                XCTAssertThrowsError(try scan(v), "\(bad) at \(at)") { e in
                    XCTAssertTrue("\(e)".contains("at element \(at)"), "\(e)")
                }
            }
        }
    }
}
