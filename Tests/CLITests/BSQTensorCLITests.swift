import BSQAudio
import Foundation
import TestSupport
import XCTest

final class BSQTensorCLITests: XCTestCase {
    func stream() throws -> [UInt8] {
        try encodeFrames([
            Frame([Float(1), 2, 3, 4], dims: [2, 2], meta: JSONObject(["kind": "mel", "key": "a/b"])),
            Frame([UInt32(5), 6], dims: [1, 2], meta: JSONObject(["kind": "codes", "key": "c"])),
            Frame([Int16(-1)], dims: [], meta: JSONObject(["kind": "tensor"])),
        ])
    }

    func testInfoLinesAndJSON() throws {
        let r = try Tool.run("bsq-tensor", ["info"], stdin: try stream())
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdoutText, "0\ta/b\tmel\tf32\t[2,2]\t82\tplain\n1\tc\tcodes\tu32\t[1,2]\t74\tplain\n2\t-\ttensor\ti16\t[]\t43\tplain\n")
        let j = try Tool.run("bsq-tensor", ["info", "--json", "-"], stdin: try stream())
        let lines = j.stdoutText.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        let first = try JSONValue.parse(String(lines[0]))
        XCTAssertEqual(first["dims"], [2, 2])
        XCTAssertEqual(first["meta"]?["key"], "a/b")
        XCTAssertEqual(first["zstd"], false)
    }

    func testCatIsByteExactAndSelects() throws {
        let s = try stream()
        let dir = TempDir()
        try Data(s).write(to: dir.url.appendingPathComponent("s.bsqt"))
        let r = try Tool.run("bsq-tensor", ["cat", dir.path("s.bsqt"), "-", dir.path("s.bsqt")], stdin: s)
        XCTAssertEqual(r.stdout, s + s + s)
        let k = try Tool.run("bsq-tensor", ["cat", "--kind", "codes"], stdin: s)
        XCTAssertEqual(try decodeFrames(k.stdout).map(\.key), ["c"])
        let key = try Tool.run("bsq-tensor", ["cat", "--key", "a/b", "--key", "c"], stdin: s)
        XCTAssertEqual(try decodeFrames(key.stdout).count, 2)
    }

    func testRecompressRoundTrip() throws {
        let s = try stream()
        let z = try Tool.run("bsq-tensor", ["cat", "--zstd"], stdin: s)
        XCTAssertTrue(try decodeFrames(z.stdout).count == 3)
        let info = try Tool.run("bsq-tensor", ["info"], stdin: z.stdout)
        XCTAssertTrue(info.stdoutText.split(separator: "\n").allSatisfy { $0.hasSuffix("zstd") })
        let back = try Tool.run("bsq-tensor", ["cat", "--no-zstd"], stdin: z.stdout)
        XCTAssertEqual(back.stdout, s)
    }

    func testNpyRoundTripThroughFolder() throws {
        let dir = TempDir()
        let s = try stream()
        let r = try Tool.run("bsq-tensor", ["to-npy", "-o", dir.path("out")], stdin: s)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path("out/a/b.npy")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path("out/frame-000002.npy")))
        var rebuilt: [UInt8] = []
        for name in ["a/b", "c", "frame-000002"] {
            let f = try Tool.run("bsq-tensor", ["from-npy", dir.path("out/\(name).npy"), "--meta", "@" + dir.path("out/\(name).json")])
            XCTAssertEqual(f.status, 0, f.stderr)
            rebuilt += f.stdout
        }
        XCTAssertEqual(rebuilt, s)
    }

    func testBadInputsAreOneLineErrors() throws {
        var s = try stream()
        s[s.count - 1] ^= 1
        assertToolError(try Tool.run("bsq-tensor", ["info"], stdin: s), "bsq-tensor", contains: "CRC mismatch", status: 1)
        assertToolError(try Tool.run("bsq-tensor", ["cat", "/nonexistent/x"]), "bsq-tensor", contains: "/nonexistent/x: No such file", status: 1)
        assertToolError(try Tool.run("bsq-tensor", ["info", "--frobnicate"]), "bsq-tensor", contains: "--frobnicate", status: 64)
        assertToolError(try Tool.run("bsq-tensor", ["from-npy", "x.npy", "--meta", "[1]"]), "bsq-tensor", contains: "--meta must be a JSON object")
        let garbage = try Tool.run("bsq-tensor", ["cat"], stdin: Array("hello world, not a frame".utf8))
        assertToolError(garbage, "bsq-tensor", contains: "bad magic at byte 0")
        XCTAssertTrue(garbage.stdout.isEmpty)
    }

    func testFromNpyIsAllOrNothing() throws {
        let dir = TempDir()
        XCTAssertEqual(try Tool.run("bsq-tensor", ["to-npy", "-o", dir.path("out")], stdin: try stream()).status, 0)
        try Data("not npy".utf8).write(to: URL(fileURLWithPath: dir.path("bad.npy")))
        let r = try Tool.run("bsq-tensor", ["from-npy", dir.path("out/c.npy"), dir.path("bad.npy")])
        assertToolError(r, "bsq-tensor", contains: "bad.npy", status: 1)
        XCTAssertTrue(r.stdout.isEmpty, "the good file's frame is not written before the failure")
    }

    func testToNpyLeavesNothingWhenTheStreamIsBad() throws {
        let dir = TempDir()
        var s = try stream()
        s.removeLast(3)
        let r = try Tool.run("bsq-tensor", ["to-npy", "-o", dir.path("out")], stdin: s)
        assertToolError(r, "bsq-tensor", contains: "stream ends inside a frame at byte 156")
        let left = try FileManager.default.subpathsOfDirectory(atPath: dir.path("out"))
        XCTAssertEqual(left.filter { $0.hasSuffix(".npy") || $0.hasSuffix(".json") || $0.contains(".tmp-") }, [])
    }

    func testClosedReaderEndsQuietlyWithSIGPIPE() throws {
        let dir = TempDir()
        let big = Frame([Float](repeating: 1, count: 1 << 20), dims: [1 << 20])
        try Data(try encodeFrames(Array(repeating: big, count: 16))).write(to: dir.url.appendingPathComponent("big.bsqt"))
        let r = try Tool.shell("bsq-tensor cat \(dir.path("big.bsqt")) | head -c 100 >/dev/null; echo ${PIPESTATUS[0]}")
        XCTAssertEqual(r.stdoutText, "141\n")
        XCTAssertEqual(r.stderr, "")
    }
}
