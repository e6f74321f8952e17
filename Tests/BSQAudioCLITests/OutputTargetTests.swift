import BSQAudio
import BSQAudioCLI
import Foundation
import TestSupport
import XCTest

/// `-o`: standard output, a file put in place only by a run that succeeds
/// (and whose result the tool keeps), or a folder.
final class OutputTargetTests: XCTestCase {
    struct Stop: Error {}

    func frame(_ key: String) -> Frame { Frame([Float(1), 2, 3], dims: [3], meta: JSONObject(["key": .string(key)])) }

    func testTheOptionNamesTheTarget() throws {
        let dir = TempDir()
        XCTAssertEqual(OutputTarget(nil), .standardOutput)
        XCTAssertEqual(OutputTarget(dir.path("a.mel")), .file(dir.path("a.mel")))
        XCTAssertEqual(OutputTarget(dir.url.path), .file(dir.url.path), "a folder only for a tool that writes folders")
        XCTAssertEqual(OutputTarget(dir.url.path, folders: true), .folder(dir.url.path))
        XCTAssertEqual(OutputTarget(dir.url.path + "/new/", folders: true), .folder(dir.url.path + "/new/"))
        XCTAssertEqual(OutputTarget(dir.path("new"), folders: true), .file(dir.path("new")))
    }

    func testTheFileAppearsOnlyWhenTheRunSucceeds() throws {
        let dir = TempDir()
        let path = dir.path("out.bsqt")
        XCTAssertThrowsError(try OutputTarget(path).withFrameWriter { writer in
            try writer.write(frame("a"))
            try writer.flush()
            throw Stop()
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), [], "nothing left behind")

        let written = try OutputTarget(path).withFrameWriter(keep: { $0 > 0 }) { writer -> Int in
            try writer.write(frame("a"))
            return 1
        }
        XCTAssertEqual(written, 1)
        var keys: [String] = []
        try FrameInputs([path]).forEach { f, _ in keys.append(f.key ?? "") }
        XCTAssertEqual(keys, ["a"])

        XCTAssertEqual(try OutputTarget(path).withFrameWriter(keep: { $0 > 0 }) { _ in 0 }, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["out.bsqt"],
                       "a run the tool does not keep leaves the earlier file alone")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int,
                       try FrameWriter.encode(frame("a")).count)
    }

    func testZstdAppliesToFramesWritten() throws {
        let dir = TempDir()
        let path = dir.path("z.bsqt")
        try OutputTarget(path).withFrameWriter(zstd: true) { try $0.write(frame("z")) }
        var zstd: [Bool] = []
        try FrameInputs([path]).forEachStored { f, _ in zstd.append(f.zstd) }
        XCTAssertEqual(zstd, [true])
    }
}
