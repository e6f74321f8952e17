import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `spec-metrics` against the same formulas computed in numpy float64 on the
/// committed fixtures (Tests/Fixtures/metrics/make_metrics_fixtures.py).
final class SpecMetricsCLITests: XCTestCase {
    let specFields = ["mse", "mae", "rmse", "psnr", "lsd", "sc", "snr"]
    let codeFields = ["tokens", "seconds", "tokens_per_second", "bits_per_second", "distinct", "usage", "entropy", "perplexity"]

    func fixture(_ name: String) -> String { Repo.fixture("metrics/" + name).path }

    func expected() throws -> JSONValue {
        try JSONValue.parse(try Repo.fixtureData("metrics/expected.json"))
    }

    func assertClose(_ got: Double?, _ want: Double?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let got, let want else { return XCTFail("\(what): \(String(describing: got)) vs \(String(describing: want))", file: file, line: line) }
        XCTAssertLessThanOrEqual(abs(got - want), 1e-6 * abs(want) + 1e-12, "\(what): \(got) vs \(want)", file: file, line: line)
    }

    /// Runs spec-metrics --json and returns its lines parsed.
    func json(_ args: [String], stdin: [UInt8] = []) throws -> [JSONValue] {
        let r = try Tool.run("spec-metrics", ["--json"] + args, stdin: stdin)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        return try r.stdoutText.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    func assertMatchesFixture(_ rows: [JSONValue], codes: String?, psnrField: String = "psnr",
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let want = try expected()
        let utterances = want["utterances"]!.array!
        XCTAssertEqual(rows.count, utterances.count + 1, file: file, line: line)
        for (row, w) in zip(rows, utterances + [want["overall"]!]) {
            let what = row["key"]?.string ?? "overall"
            XCTAssertEqual(row["type"]?.string, w["key"] == nil ? "overall" : "utterance", file: file, line: line)
            XCTAssertEqual(row["key"], w["key"], file: file, line: line)
            for k in ["frames", "values", "n_mels", "utterances"] { XCTAssertEqual(row[k], w[k], "\(what) \(k)", file: file, line: line) }
            for k in specFields { assertClose(row[k]?.number, w[k == "psnr" ? psnrField : k]?.number, "\(what) \(k)", file: file, line: line) }
            guard let codes else {
                XCTAssertNil(row["codes"], file: file, line: line)
                continue
            }
            let c = row["codes"], e = w[codes]
            XCTAssertEqual(c?["bits"], e?["bits"], file: file, line: line)
            for k in codeFields { assertClose(c?[k]?.number, e?[k]?.number, "\(what) \(codes) \(k)", file: file, line: line) }
            let bits = c?["bit_entropy"]?.array?.compactMap(\.number) ?? []
            let wantBits = e?["bit_entropy"]?.array?.compactMap(\.number) ?? []
            XCTAssertEqual(bits.count, wantBits.count, file: file, line: line)
            for (k, (g, w)) in zip(bits, wantBits).enumerated() { assertClose(g, w, "\(what) \(codes) bit \(k)", file: file, line: line) }
        }
    }

    func testMetricsMatchNumpyByKey() throws {
        try assertMatchesFixture(try json([fixture("ref.bsqt"), fixture("hyp.bsqt")]), codes: nil)
        XCTAssertEqual(try json([fixture("ref.bsqt"), fixture("hyp.bsqt")]).map { $0["key"]?.string ?? "" },
                       ["spk1/utt-a", "spk1/utt-b", "spk2/utt,c", ""], "rows in the reference's order")
    }

    func testCodeStatisticsMatchNumpy() throws {
        try assertMatchesFixture(try json(["--codes", fixture("codes.bsqt"), fixture("ref.bsqt"), fixture("hyp.bsqt")]), codes: "codes")
        try assertMatchesFixture(try json(["--codes", fixture("codes64.bsqt"), fixture("ref.bsqt"), fixture("hyp.bsqt")]), codes: "codes64")
    }

    func testByOrderAndRange() throws {
        let byKey = try Tool.run("spec-metrics", [fixture("ref.bsqt"), fixture("hyp_by_order.bsqt")])
        assertToolError(byKey, "spec-metrics", contains: "spk1/utt-a: in \(fixture("ref.bsqt")) but not in \(fixture("hyp_by_order.bsqt"))", status: 1)
        try assertMatchesFixture(try json(["--by-order", "--codes", fixture("codes64.bsqt"), fixture("ref.bsqt"), fixture("hyp_by_order.bsqt")]), codes: "codes64")
        try assertMatchesFixture(try json(["--range", "100", fixture("ref.bsqt"), fixture("hyp.bsqt")]), codes: nil, psnrField: "psnr_range100")
    }

    func testStandardInputInAPipeline() throws {
        let r = try Tool.shell("cat '\(fixture("hyp.bsqt"))' | spec-metrics --json '\(fixture("ref.bsqt"))' -")
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertMatchesFixture(try r.stdoutText.split(separator: "\n").map { try JSONValue.parse(String($0)) }, codes: nil)
    }

    func testCSV() throws {
        let r = try Tool.run("spec-metrics", ["--csv", "--codes", fixture("codes.bsqt"), fixture("ref.bsqt"), fixture("hyp.bsqt")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        let header = lines[0].split(separator: ",").map(String.init)
        XCTAssertEqual(Array(header.prefix(12)), ["type", "key", "frames", "n_mels", "values", "mse", "mae", "rmse", "psnr", "lsd", "sc", "snr"])
        XCTAssertEqual(Array(header[12..<21]), ["bits", "tokens", "seconds", "tokens_per_second", "bits_per_second", "distinct", "usage", "entropy", "perplexity"])
        XCTAssertEqual(Array(header[21...]), (0..<12).map { "bit_entropy_\($0)" })
        XCTAssertTrue(lines[3].hasPrefix("utterance,\"spk2/utt,c\",23,20,460,"), "a key with a comma is quoted: \(lines[3])")
        XCTAssertTrue(lines[4].hasPrefix("overall,,110,,"), lines[4])

        let want = try expected()
        for (line, w) in zip(lines.dropFirst(), want["utterances"]!.array! + [want["overall"]!]) {
            let cells = csvCells(line)
            XCTAssertEqual(cells.count, header.count, line)
            let row = Dictionary(uniqueKeysWithValues: zip(header, cells))
            XCTAssertEqual(row["key"], w["key"]?.string ?? "")
            for k in specFields { assertClose(Double(row[k]!), w[k]?.number, "csv \(k)") }
            for k in codeFields { assertClose(Double(row[k]!), w["codes"]?[k]?.number, "csv \(k)") }
            for b in 0..<12 { assertClose(Double(row["bit_entropy_\(b)"]!), w["codes"]?["bit_entropy"]?.array?[b].number, "csv bit \(b)") }
        }
    }

    func csvCells(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" { if chars.first == "\"" { cell.append("\""); chars.removeFirst() } else { quoted = false } } else { cell.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { cells.append(cell); cell = "" } else { cell.append(c) }
        }
        return cells + [cell]
    }

    func testAlignedTable() throws {
        let r = try Tool.run("spec-metrics", ["--codes", fixture("codes.bsqt"), fixture("ref.bsqt"), fixture("hyp.bsqt")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines[0].split(separator: " ").map(String.init)
        XCTAssertEqual(header, ["key", "frames", "mse", "mae", "rmse", "psnr", "lsd", "sc", "snr", "tokens", "tok/s", "bit/s", "distinct", "entropy"])
        XCTAssertEqual(Set(lines[0..<5].map(\.count)).count, 1, "rows are aligned:\n\(r.stdoutText)")
        let want = try expected()
        for (line, w) in zip(lines[1..<5], want["utterances"]!.array! + [want["overall"]!]) {
            let cells = line.split(separator: " ").map(String.init)
            XCTAssertEqual(cells[0], w["key"]?.string ?? "overall")
            XCTAssertEqual(Int(cells[1]), w["frames"]?.int)
            for (i, k, decimals) in [(2, "mse", 3), (3, "mae", 3), (4, "rmse", 3), (5, "psnr", 2), (6, "lsd", 3), (7, "sc", 4), (8, "snr", 2)] {
                XCTAssertEqual(cells[i], String(format: "%.\(decimals)f", w[k]!.number!), "\(cells[0]) \(k)")
            }
            XCTAssertEqual(cells[9], String(w["codes"]!["tokens"]!.int!))
            XCTAssertEqual(cells[10], String(format: "%.2f", w["codes"]!["tokens_per_second"]!.number!))
            XCTAssertEqual(cells[12], String(w["codes"]!["distinct"]!.int!))
        }
        let o = want["overall"]!["codes"]!
        XCTAssertEqual(lines[5], "")
        XCTAssertEqual(lines[6], String(format: "tokens: 122 of 12 bits, standing for 1.100 s: %.2f tokens/s, %.1f bits/s",
                                        o["tokens_per_second"]!.number!, o["bits_per_second"]!.number!))
        XCTAssertEqual(lines[7], String(format: "codebook usage: %d of 2^12 = 4096 (%.4f %%)", o["distinct"]!.int!, 100 * o["usage"]!.number!))
        XCTAssertEqual(lines[8], String(format: "entropy: %.4f bits per token, perplexity %.2f", o["entropy"]!.number!, o["perplexity"]!.number!))
        XCTAssertEqual(lines[10], "  " + o["bit_entropy"]!.array!.map { String(format: "%.3f", $0.number!) }.joined(separator: " "))
        XCTAssertTrue(lines[10].hasPrefix("  0.000 1.000 "), "the top bit is never set, the next is fair")
    }

    func testIdenticalStreams() throws {
        let rows = try json([fixture("ref.bsqt"), fixture("ref.bsqt")])
        for row in rows {
            XCTAssertEqual(row["mse"], 0)
            XCTAssertEqual(row["sc"], 0)
            XCTAssertEqual(row["psnr"], .null, "infinite PSNR is null in JSON")
            XCTAssertEqual(row["snr"], .null)
        }
        let table = try Tool.run("spec-metrics", [fixture("ref.bsqt"), fixture("ref.bsqt")])
        XCTAssertTrue(table.stdoutText.split(separator: "\n").last!.hasSuffix("inf  0.000  0.0000  inf"), table.stdoutText)
        let csv = try Tool.run("spec-metrics", ["--csv", fixture("ref.bsqt"), fixture("ref.bsqt")])
        XCTAssertTrue(csv.stdoutText.split(separator: "\n").last!.hasSuffix(",0.0,0.0,0.0,inf,0.0,0.0,inf"), csv.stdoutText)
    }

    func testMismatchesAndWrongKindsAreNamed() throws {
        func mel(_ key: String?, _ frames: Int, _ nMels: Int = 4) -> Frame {
            var meta = JSONObject(["kind": "mel"])
            if let key { meta["key"] = .string(key) }
            return Frame([Float](repeating: -10, count: frames * nMels), dims: [frames, nMels], meta: meta)
        }
        let dir = TempDir()
        func stream(_ name: String, _ frames: [Frame]) throws -> String {
            try Data(try encodeFrames(frames)).write(to: dir.url.appendingPathComponent(name))
            return dir.path(name)
        }
        let ref = try stream("ref.mel", [mel("a", 5), mel("b", 6)])
        let short = try stream("short.mel", [mel("a", 5), mel("b", 5)])
        assertToolError(try Tool.run("spec-metrics", [ref, short]), "spec-metrics",
                        contains: "b: shapes differ: \(ref) [6,4], \(short) [5,4]", status: 1)
        let missing = try stream("missing.mel", [mel("b", 6)])
        assertToolError(try Tool.run("spec-metrics", [ref, missing]), "spec-metrics", contains: "a: in \(ref) but not in \(missing)", status: 1)
        assertToolError(try Tool.run("spec-metrics", [missing, ref]), "spec-metrics", contains: "a: in \(ref) but not in \(missing)", status: 1)
        let codes = Frame([UInt32(1)], dims: [1, 1], meta: JSONObject(["kind": "codes", "key": "b"]))
        let wrong = try stream("wrong.mel", [mel("a", 5), codes])
        assertToolError(try Tool.run("spec-metrics", [ref, wrong]), "spec-metrics",
                        contains: "\(wrong): frame 1 (b): not a mel frame: kind \"codes\", u32 [1,1]", status: 1)
        assertToolError(try Tool.run("spec-metrics", ["--codes", ref, ref, ref]), "spec-metrics",
                        contains: "\(ref): frame 0 (a): not a codes frame: kind \"mel\", f32 [5,4]", status: 1)
        assertToolError(try Tool.run("spec-metrics", ["--codes", try stream("c.bsqt", [codes]), ref, ref]), "spec-metrics",
                        contains: "frame 0 (b): metadata bits must be an integer from 1 to 32 (got nothing)", status: 1)
        let keyless = try stream("keyless.mel", [mel(nil, 5), mel(nil, 6)])
        assertToolError(try Tool.run("spec-metrics", [keyless, ref]), "spec-metrics",
                        contains: "\(keyless): frame 0 has no key (match frames by position with --by-order)", status: 1)
        let r = try json(["--by-order", keyless, ref])
        XCTAssertEqual(r.map { $0["key"]?.string }, ["frame 0", "frame 1", nil])
        let twice = try stream("twice.mel", [mel("a", 5), mel("a", 5)])
        assertToolError(try Tool.run("spec-metrics", [ref, twice]), "spec-metrics", contains: "\(twice): frame 1 (a): the key appears twice", status: 1)
        let one = try stream("one.mel", [mel("x", 5)])
        assertToolError(try Tool.run("spec-metrics", ["--by-order", ref, one]), "spec-metrics",
                        contains: "\(one) ends after 1 frame but \(ref) has more", status: 1)
        assertToolError(try Tool.run("spec-metrics", ["--by-order", ref, missing]), "spec-metrics",
                        contains: "a: shapes differ: \(ref) [5,4], \(missing) [6,4]", status: 1)
        assertToolError(try Tool.run("spec-metrics", [ref, dir.path("nothing.mel")]), "spec-metrics", contains: "No such file or directory", status: 1)
    }

    func testOptionsAreValidated() throws {
        let cases: [([String], String)] = [
            (["--json", "--csv", "a", "b"], "--json and --csv cannot be used together"),
            (["--range", "0", "a", "b"], "--range must be > 0 (got 0.0)"),
            (["-", "-"], "only one of REF, HYP and --codes can be - (standard input)"),
            (["a"], "Missing expected argument '<hyp>'"),
        ]
        for (args, message) in cases {
            assertToolError(try Tool.run("spec-metrics", args), "spec-metrics", contains: message, status: 64)
        }
    }
}
