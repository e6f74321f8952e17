import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Python <-> Swift interop for BSQT frames and `.npy`, without Python: the
/// fixtures in Tests/Fixtures/frames were written by make_frame_fixtures.py
/// (numpy + zstandard, independently of the Swift code), and its sidecars
/// (python_stream.json, npy/expected.json) say what each frame must decode to.
///
/// With BSQ_INTEROP_OUT=DIR set, the tool outputs are kept in DIR so that
/// `make_frame_fixtures.py --check DIR` can check them with numpy.
final class FrameInteropTests: XCTestCase {
    static let streamPath = Repo.fixture("frames/python_stream.bsqt").path

    /// The frames listed in python_stream.json.
    func sidecar() throws -> [JSONValue] {
        let doc = try JSONValue.parse(try Repo.fixtureData("frames/python_stream.json"))
        let frames = try XCTUnwrap(doc["frames"]?.array)
        XCTAssertEqual(frames.count, 25)
        XCTAssertEqual(doc["bytes"]?.int, try Repo.fixtureData("frames/python_stream.bsqt").count)
        return frames
    }

    /// The .npy inputs listed in npy/expected.json.
    func npyInputs() throws -> [JSONValue] {
        try XCTUnwrap(try JSONValue.parse(try Repo.fixtureData("frames/npy/expected.json"))["files"]?.array)
    }

    /// Where the tool outputs go: $BSQ_INTEROP_OUT (kept), else a temporary folder.
    final class Output {
        let temp: TempDir?
        let url: URL
        init() {
            if let d = ProcessInfo.processInfo.environment["BSQ_INTEROP_OUT"], !d.isEmpty {
                url = URL(fileURLWithPath: d)
                try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                temp = nil
            } else {
                temp = TempDir()
                url = temp!.url
            }
        }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        func save(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: url.appendingPathComponent(name)) }
    }

    func dims(_ e: JSONValue) -> [Int] { (e["dims"]?.array ?? []).map { $0.int ?? -1 } }

    func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// Checks decoded payload bytes against a sidecar entry: length, zlib CRC-32, and the bytes themselves when listed.
    func checkPayload(_ payload: [UInt8], _ e: JSONValue, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(payload.count, e["payload_bytes"]?.int, "\(what): payload length", file: file, line: line)
        XCTAssertEqual(Int(CRC32.checksum(payload)), e["crc32"]?.int, "\(what): payload CRC-32", file: file, line: line)
        if let h = e["payload_hex"]?.string {
            XCTAssertEqual(hex(payload), h, "\(what): payload bytes", file: file, line: line)
        }
    }

    /// Checks a decoded frame against a sidecar entry of python_stream.json.
    func checkFrame(_ f: Frame, _ e: JSONValue, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(f.dtype.name, e["dtype"]?.string, "\(what): dtype", file: file, line: line)
        XCTAssertEqual(Int(f.dtype.rawValue), e["code"]?.int, "\(what): dtype code", file: file, line: line)
        XCTAssertEqual(f.dims, dims(e), "\(what): dims", file: file, line: line)
        XCTAssertEqual(JSONValue.object(f.meta), e["meta"], "\(what): metadata", file: file, line: line)
        checkPayload(f.payload, e, what, file: file, line: line)
    }

    /// `info --json` lines, parsed.
    func info(_ args: [String], stdin: [UInt8] = []) throws -> [JSONValue] {
        let r = try Tool.run("bsq-tensor", ["info", "--json"] + args, stdin: stdin)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try r.stdoutText.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    /// The header text and data of `.npy` bytes.
    func npyParts(_ b: [UInt8], _ what: String) throws -> (header: String, headerBytes: Int, data: [UInt8]) {
        XCTAssertEqual(Array(b.prefix(6)), [0x93] + Array("NUMPY".utf8), "\(what): magic")
        let major = try XCTUnwrap(b.count > 10 ? b[6] : nil, "\(what): too short")
        let start = major == 1 ? 10 : 12
        var len = 0
        for i in stride(from: start - 1, through: 8, by: -1) { len = len << 8 | Int(b[i]) }
        XCTAssertLessThanOrEqual(start + len, b.count, "\(what): header length")
        let header = String(decoding: b[start..<min(start + len, b.count)], as: UTF8.self)
        return (header, start + len, Array(b[min(start + len, b.count)...]))
    }

    // MARK: - Python-written stream, read by the tool

    func testInfoJSONMatchesTheSidecar() throws {
        let expected = try sidecar()
        let lines = try info([Self.streamPath])
        XCTAssertEqual(lines.count, expected.count)
        for (l, e) in zip(lines, expected) {
            let what = "frame \(e["index"]?.int ?? -1)"
            XCTAssertEqual(l["index"], e["index"], what)
            XCTAssertEqual(l["offset"], e["offset"], what)
            XCTAssertEqual(l["stored_bytes"], e["stored_bytes"], what)
            XCTAssertEqual(l["payload_bytes"], e["stored_payload_bytes"], what)
            XCTAssertEqual(l["dtype"], e["dtype"], what)
            XCTAssertEqual(l["dims"], e["dims"], what)
            XCTAssertEqual(l["zstd"], e["zstd"], what)
            XCTAssertEqual(l["meta"], e["meta"], what)
            XCTAssertEqual(l["key"], e["meta"]?["key"] ?? .null, what)
            XCTAssertEqual(l["kind"], e["meta"]?["kind"] ?? .null, what)
        }
        // Every dtype, rank 0 to 8, dims of 0, plain and zstd are there.
        XCTAssertEqual(Set(lines.compactMap { $0["dtype"]?.string }), Set(DType.allCases.map(\.name)))
        XCTAssertEqual(Set(lines.map { $0["dims"]?.array?.count ?? -1 }), Set(0...8))
        XCTAssertTrue(lines.contains { $0["dims"]?.array?.contains(0) == true })
        XCTAssertEqual(Set(lines.compactMap { $0["zstd"]?.bool }), [true, false])
    }

    func testCatDecodesEveryFrameAsNumpyWrote() throws {
        let out = Output()
        let original = try Repo.fixtureData("frames/python_stream.bsqt")
        let expected = try sidecar()

        let same = try Tool.run("bsq-tensor", ["cat", Self.streamPath])
        XCTAssertEqual(same.status, 0, same.stderr)
        XCTAssertEqual(same.stdout, original, "cat without --zstd/--no-zstd must copy the stream byte for byte")
        try out.save("passthrough.bsqt", same.stdout)

        let plain = try Tool.run("bsq-tensor", ["cat", "--no-zstd", Self.streamPath])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let frames = try decodeFrames(plain.stdout)
        XCTAssertEqual(frames.count, expected.count)
        for (f, e) in zip(frames, expected) { checkFrame(f, e, "cat --no-zstd, frame \(e["index"]?.int ?? -1)") }

        // Frames that were plain pass through --no-zstd untouched.
        let lines = try info([], stdin: plain.stdout)
        XCTAssertEqual(lines.count, expected.count)
        for (l, e) in zip(lines, expected) {
            XCTAssertEqual(l["zstd"], false)
            guard e["zstd"] == false, let o = l["offset"]?.int, let n = l["stored_bytes"]?.int,
                let eo = e["offset"]?.int, let en = e["stored_bytes"]?.int
            else { continue }
            XCTAssertEqual(Array(plain.stdout[o..<o + n]), Array(original[eo..<eo + en]), "frame \(e["index"]?.int ?? -1) changed")
        }
    }

    func testRecompressThenDecompressKeepsEveryPayload() throws {
        let out = Output()
        let original = try Repo.fixtureData("frames/python_stream.bsqt")
        let expected = try sidecar()

        let z = try Tool.run("bsq-tensor", ["cat", "--zstd", Self.streamPath])
        XCTAssertEqual(z.status, 0, z.stderr)
        try out.save("recompressed.bsqt", z.stdout)
        let lines = try info([], stdin: z.stdout)
        XCTAssertEqual(lines.count, expected.count)
        for (l, e) in zip(lines, expected) {
            XCTAssertEqual(l["zstd"], true, "frame \(e["index"]?.int ?? -1) is not zstd after cat --zstd")
            // Payloads numpy's zstandard compressed (with or without a content size, with a checksum) are kept as stored.
            guard e["zstd"] == true, let o = l["offset"]?.int, let n = l["stored_bytes"]?.int,
                let eo = e["offset"]?.int, let en = e["stored_bytes"]?.int
            else { continue }
            XCTAssertEqual(Array(z.stdout[o..<o + n]), Array(original[eo..<eo + en]), "frame \(e["index"]?.int ?? -1) was recompressed")
        }

        let back = try Tool.run("bsq-tensor", ["cat", "--no-zstd"], stdin: z.stdout)
        XCTAssertEqual(back.status, 0, back.stderr)
        try out.save("plain.bsqt", back.stdout)
        let direct = try Tool.run("bsq-tensor", ["cat", "--no-zstd", Self.streamPath])
        let viaZstd = try decodeFrames(back.stdout)
        let plain = try decodeFrames(direct.stdout)
        let compressed = try decodeFrames(z.stdout)
        XCTAssertEqual(viaZstd.count, expected.count)
        for (i, e) in expected.enumerated() where i < viaZstd.count && i < plain.count && i < compressed.count {
            checkFrame(viaZstd[i], e, "cat --zstd | cat --no-zstd, frame \(i)")
            XCTAssertEqual(viaZstd[i].payload, plain[i].payload, "frame \(i)")
            XCTAssertEqual(compressed[i].payload, plain[i].payload, "frame \(i)")
            XCTAssertEqual(viaZstd[i].meta, plain[i].meta, "frame \(i)")
        }
        for l in try info([], stdin: back.stdout) { XCTAssertEqual(l["zstd"], false) }
    }

    // MARK: - .npy written by the tool, as numpy writes it

    func testToNpyWritesWhatNumpyWrites() throws {
        let out = Output()
        let expected = try sidecar()
        let r = try Tool.run("bsq-tensor", ["to-npy", "-o", out.path("npy")], stdin: try Repo.fixtureData("frames/python_stream.bsqt"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, [])
        var compared = 0
        for e in expected {
            let name = try XCTUnwrap(e["npy_name"]?.string)
            let what = "to-npy \(name).npy"
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: out.path("npy/\(name).npy"))))
            let parts = try npyParts(bytes, what)
            XCTAssertEqual(parts.headerBytes % 64, 0, "\(what): header not 64-byte aligned")
            XCTAssertTrue(parts.header.hasSuffix("\n"), what)
            XCTAssertTrue(parts.header.contains("'fortran_order': False"), what)
            checkPayload(parts.data, e, what)
            let sidecarJSON = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out.path("npy/\(name).json")))))
            XCTAssertEqual(sidecarJSON, e["meta"], "\(name).json")

            guard let ref = e["expected_npy"]?.string else { continue }
            compared += 1
            let numpy = try Repo.fixtureData("frames/" + ref)
            let numpyParts = try npyParts(numpy, ref)
            XCTAssertEqual(parts.header.trimmingCharacters(in: .whitespacesAndNewlines), e["npy_header"]?.string, what)
            XCTAssertEqual(parts.data, numpyParts.data, what)
            if e["npy_header_is_shortest"] == true {
                XCTAssertTrue(bytes == numpy, "\(what) differs from numpy's np.save bytes (\(bytes.count) vs \(numpy.count) bytes, headers \(parts.headerBytes) vs \(numpyParts.headerBytes))")
            }
        }
        XCTAssertEqual(compared, 9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.path("npy/frame-000024.npy")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.path("npy/py/ünïcødé/音声🎵.npy")))
    }

    // MARK: - .npy written by numpy, read by the tool

    func testFromNpyReadsNumpyFiles() throws {
        let out = Output()
        let inputs = try npyInputs()
        let accepted = inputs.filter { $0["refused"] == false }
        XCTAssertEqual(accepted.count, 6)
        for e in accepted {
            let file = try XCTUnwrap(e["file"]?.string)
            let r = try Tool.run("bsq-tensor", ["from-npy", Repo.fixture("frames/npy/" + file).path])
            XCTAssertEqual(r.status, 0, "\(file): \(r.stderr)")
            let frames = try decodeFrames(r.stdout)
            XCTAssertEqual(frames.count, 1, file)
            guard let f = frames.first else { continue }
            XCTAssertEqual(f.dtype.name, e["dtype"]?.string, file)
            XCTAssertEqual(f.dims, dims(e), file)
            XCTAssertEqual(JSONValue.object(f.meta), ["key": e["key"] ?? .null], file)
            checkPayload(f.payload, e, "from-npy \(file)")
        }

        let paths = try accepted.map { Repo.fixture("frames/npy/" + (try XCTUnwrap($0["file"]?.string))).path }
        for zstd in [false, true] {
            let r = try Tool.run("bsq-tensor", ["from-npy"] + (zstd ? ["--zstd"] : []) + paths)
            XCTAssertEqual(r.status, 0, r.stderr)
            try out.save(zstd ? "from_npy_zstd.bsqt" : "from_npy.bsqt", r.stdout)
            let frames = try decodeFrames(r.stdout)
            XCTAssertEqual(frames.count, accepted.count)
            for (f, e) in zip(frames, accepted) { checkPayload(f.payload, e, "from-npy \(zstd ? "--zstd " : "")\(e["file"]?.string ?? "")") }
            for l in try info([], stdin: r.stdout) { XCTAssertEqual(l["zstd"]?.bool, zstd) }
        }

        // Standard input: key "-".
        let v2 = try XCTUnwrap(accepted.first { $0["file"] == "v2_i16.npy" })
        let s = try Tool.run("bsq-tensor", ["from-npy", "-"], stdin: try Repo.fixtureData("frames/npy/v2_i16.npy"))
        XCTAssertEqual(s.status, 0, s.stderr)
        let f = try XCTUnwrap(try decodeFrames(s.stdout).first)
        XCTAssertEqual(f.key, "-")
        checkPayload(f.payload, v2, "from-npy - < v2_i16.npy")
    }

    func testFromNpyRefusesDTypesWithoutACode() throws {
        let refused = try npyInputs().filter { $0["refused"] == true }
        XCTAssertEqual(Set(refused.compactMap { $0["file"]?.string }), ["complex.npy", "bool.npy"])
        for e in refused {
            let file = try XCTUnwrap(e["file"]?.string)
            let path = Repo.fixture("frames/npy/" + file).path
            let r = try Tool.run("bsq-tensor", ["from-npy", path])
            assertToolError(r, "bsq-tensor", contains: "\(path): numpy dtype '\(e["descr"]?.string ?? "?")' has no BSQT equivalent", status: 1)
            XCTAssertEqual(r.stdout, [], file)
            // Also when a good file comes first.
            let mixed = try Tool.run("bsq-tensor", ["from-npy", Repo.fixture("frames/npy/v1_f32.npy").path, path])
            assertToolError(mixed, "bsq-tensor", contains: "has no BSQT equivalent", status: 1)
        }
    }

    // MARK: - Both ways

    func testToNpyThenFromNpyGivesTheFramesBack() throws {
        let out = Output()
        let dir = TempDir()
        let expected = try sidecar()
        let r = try Tool.run("bsq-tensor", ["to-npy", "-o", dir.path("npy"), Self.streamPath])
        XCTAssertEqual(r.status, 0, r.stderr)
        var rebuilt: [UInt8] = []
        for e in expected {
            let name = try XCTUnwrap(e["npy_name"]?.string)
            let f = try Tool.run("bsq-tensor", ["from-npy", dir.path("npy/\(name).npy"), "--meta", "@" + dir.path("npy/\(name).json")])
            XCTAssertEqual(f.status, 0, "\(name): \(f.stderr)")
            rebuilt += f.stdout
        }
        try out.save("roundtrip.bsqt", rebuilt)
        let frames = try decodeFrames(rebuilt)
        XCTAssertEqual(frames.count, expected.count)
        for (f, e) in zip(frames, expected) { checkFrame(f, e, "to-npy | from-npy, frame \(e["index"]?.int ?? -1)") }
    }
}
