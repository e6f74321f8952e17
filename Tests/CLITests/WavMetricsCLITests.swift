import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `wav-metrics` against pystoi 0.4.1 (STOI, ESTOI) and numpy (SI-SNR, MCD)
/// on the committed pairs made by Tests/Fixtures/wave/make_wave_fixtures.py.
final class WavMetricsCLITests: XCTestCase {
    struct Manifest: Decodable {
        struct Case: Decodable {
            let name: String
            let ref: String
            let hyp: String
            let sample_rate: Int
            let samples: Int
            let stoi: Double
            let estoi: Double
            let si_snr: Double
            let mcd: Double
        }
        let metrics: [Case]
    }

    func cases() throws -> [Manifest.Case] {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Repo.fixture("wave/manifest.json"))).metrics
    }

    static func fixture(_ name: String) -> String { Repo.fixture("wave/" + name).path }

    func rows(_ r: ToolResult) throws -> [JSONValue] {
        try r.stdoutText.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    func testMatchesPystoiAndNumpy() throws {
        var worst = (stoi: 0.0, estoi: 0.0)
        for c in try cases() {
            let r = try Tool.run("wav-metrics", ["--json", Self.fixture(c.ref), Self.fixture(c.hyp)])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stderr, "")
            let j = try rows(r)
            XCTAssertEqual(j.count, 2)
            guard let row = j.first else { continue }
            XCTAssertEqual(row["samples"]?.int, c.samples, "\(c.name): cut to the shorter file")
            XCTAssertEqual(row["sample_rate"]?.int, c.sample_rate)
            for (k, want) in [("stoi", c.stoi), ("estoi", c.estoi), ("si_snr", c.si_snr), ("mcd", c.mcd)] {
                let got = row[k]?.number ?? .nan
                XCTAssertLessThanOrEqual(abs(got - want), 1e-3, "\(c.name) \(k): \(got) vs \(want)")
            }
            worst.stoi = max(worst.stoi, abs((row["stoi"]?.number ?? 0) - c.stoi))
            worst.estoi = max(worst.estoi, abs((row["estoi"]?.number ?? 0) - c.estoi))
            XCTAssertEqual(j[1]["type"]?.string, "overall")
            XCTAssertEqual(j[1]["stoi"]?.number, row["stoi"]?.number)
        }
        print("wav-metrics fixtures: worst |Δ STOI| \(worst.stoi), |Δ ESTOI| \(worst.estoi)")
    }

    func testFoldersMatchedByKey() throws {
        let dir = TempDir()
        let cs = try cases()
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir.path("ref/spk"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir.path("hyp/spk"), withIntermediateDirectories: true)
        for c in cs {
            try fm.copyItem(atPath: Self.fixture(c.ref), toPath: dir.path("ref/spk/\(c.name).wav"))
            try fm.copyItem(atPath: Self.fixture(c.hyp), toPath: dir.path("hyp/spk/\(c.name).wav"))
        }
        try fm.copyItem(atPath: Self.fixture(cs[0].ref), toPath: dir.path("ref/only-here.wav"))
        let r = try Tool.run("wav-metrics", ["--csv", "-j", "2", dir.path("ref"), dir.path("hyp")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "wav-metrics: only-here: in \(dir.path("ref")) but not in \(dir.path("hyp"))\nwav-metrics: processed \(cs.count) of \(cs.count + 1)\n")
        let lines = r.stdoutText.split(separator: "\n")
        XCTAssertEqual(lines.first, "type,key,samples,sample_rate,seconds,si_snr,stoi,estoi,mcd")
        XCTAssertEqual(lines.count, cs.count + 2)
        let keys = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[1] }
        XCTAssertEqual(keys, cs.map { "spk/\($0.name)" }.sorted().map { Substring($0) } + [""])
        let stoi = lines.dropFirst().dropLast().map { Double($0.split(separator: ",")[6])! }
        let overall = Double(lines.last!.split(separator: ",", omittingEmptySubsequences: false)[6])!
        XCTAssertEqual(overall, stoi.reduce(0, +) / Double(stoi.count), accuracy: 1e-12, "overall = mean over pairs")
        let table = try Tool.run("wav-metrics", [Self.fixture(cs[0].ref), Self.fixture(cs[0].hyp)])
        XCTAssertTrue(table.stdoutText.hasPrefix("key "), table.stdoutText)
        XCTAssertTrue(table.stdoutText.contains("\noverall "), table.stdoutText)
    }

    func testErrors() throws {
        let c = try cases()[0]
        assertToolError(try Tool.run("wav-metrics", [Self.fixture(c.ref), Repo.fixture("wave").path]), "wav-metrics", contains: "both be files or both be folders", status: 1)
        assertToolError(try Tool.run("wav-metrics", [Self.fixture(c.ref), "/nonexistent.wav"]), "wav-metrics", contains: "/nonexistent.wav", status: 1)
        assertToolError(try Tool.run("wav-metrics", ["--json", "--csv", Self.fixture(c.ref), Self.fixture(c.hyp)]), "wav-metrics", contains: "--json and --csv", status: 64)
        assertToolError(try Tool.run("wav-metrics", [Self.fixture(c.ref), Self.fixture("vocoder_default.mel")]), "wav-metrics", contains: "vocoder_default.mel", status: 1)
    }
}
