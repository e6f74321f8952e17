import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `mel` against librosa 0.11 and torchaudio, on the committed fixtures made by
/// Tests/Fixtures/mel/make_mel_fixtures.py (see its manifest.json): mean |Δ| and
/// max |Δ| over every bin the reference puts above −60 dB.
final class MelFixtureTests: XCTestCase {
    struct Manifest: Decodable {
        struct Tolerance: Decodable {
            let mean_abs_db: Double
            let max_abs_db: Double
            let over_bins_where_expected_above_db: Double
        }
        struct Case: Decodable {
            let name: String
            let audio: String
            let cli_args: [String]
            let cli_args_full: [String]
            let expected: String
            let frame_step: Int
            let frames: Int
            let shape: [Int]
        }
        struct ErrorCase: Decodable {
            let audio: String
            let cli_args: [String]
            let cli: String
        }
        let tolerance: Tolerance
        let cases: [Case]
        let error_cases: [ErrorCase]
    }

    static let dir = Repo.fixture("mel")

    func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.dir.appendingPathComponent("manifest.json")))
    }

    func testEveryCaseWithinTolerance() throws {
        let m = try manifest()
        XCTAssertGreaterThanOrEqual(m.cases.count, 30)
        var worstMean = 0.0, worstMax = 0.0
        for c in m.cases {
            for args in [c.cli_args, c.cli_args_full] {
                let r = try Tool.run("mel", args + [Self.dir.appendingPathComponent(c.audio).path])
                XCTAssertEqual(r.status, 0, "\(c.name): \(r.stderr)")
                guard r.status == 0 else { continue }
                let frame = try decodeFrames(r.stdout)[0]
                XCTAssertEqual(frame.dims, [c.frames, c.shape[1]], c.name)
                guard frame.dims == [c.frames, c.shape[1]] else { continue }
                let got: [Float] = try frame.values()
                let want: [Float] = try Npy.decode(try Repo.fixtureData("mel/" + c.expected), name: c.expected).values()
                let cols = c.shape[1]
                var sum = 0.0, count = 0, worst = 0.0
                for row in 0..<c.shape[0] {
                    let t = row * c.frame_step
                    for k in 0..<cols where Double(want[row * cols + k]) > m.tolerance.over_bins_where_expected_above_db {
                        let d = abs(Double(got[t * cols + k]) - Double(want[row * cols + k]))
                        sum += d
                        count += 1
                        worst = max(worst, d)
                    }
                }
                if count == 0 {   // nothing above −60 dB (digital silence): every bin must match
                    for row in 0..<c.shape[0] {
                        for k in 0..<cols {
                            let d = abs(Double(got[row * c.frame_step * cols + k]) - Double(want[row * cols + k]))
                            sum += d
                            count += 1
                            worst = max(worst, d)
                        }
                    }
                }
                let mean = sum / Double(count)
                XCTAssertLessThanOrEqual(mean, m.tolerance.mean_abs_db, "\(c.name) mean |Δ|")
                XCTAssertLessThanOrEqual(worst, m.tolerance.max_abs_db, "\(c.name) max |Δ|")
                worstMean = max(worstMean, mean)
                worstMax = max(worstMax, worst)
            }
        }
        print("mel fixtures: worst mean |Δ| \(worstMean) dB, worst max |Δ| \(worstMax) dB over \(m.cases.count) cases")
    }

    func testCasesTheReferencesRefuse() throws {
        for c in try manifest().error_cases where c.cli == "error" {
            let r = try Tool.run("mel", c.cli_args + [Self.dir.appendingPathComponent(c.audio).path])
            assertToolError(r, "mel", contains: c.audio, status: 1)
        }
    }
}
