import BSQAudio
import Foundation
import TestSupport
import XCTest

/// A checkpoint's SHA-256 is remembered by file identity: the second load
/// takes it from the cache, any change to the file hashes again, and a cache
/// entry that is not a digest is ignored.
final class DigestCacheTests: XCTestCase {
    /// A checkpoint dropped while its digest is still being computed stops
    /// the digest's thread, so that rewriting the file at once (truncating it
    /// under the old mapping) is safe; the safetensors fuzzer found the SIGBUS.
    func testADroppedCheckpointStopsItsDigestBeforeTheFileChanges() throws {
        let dir = TempDir()
        setenv("BSQ_CACHE", "off", 1)
        defer { unsetenv("BSQ_CACHE") }
        let path = dir.path("m.safetensors")
        let model = Checkpoint.initialized(try ModelConfig.preset("small", bits: 18, groupSize: nil, conv: true, named: "s"), seed: 1)
        try model.write(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for _ in 0..<20 {
            do { _ = try Checkpoint(path: path).config }       // starts the digest, then drops the checkpoint
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try h.truncate(atOffset: 0)                            // in place: the same inode, now empty
            try h.write(contentsOf: bytes)
            try h.close()
        }
        XCTAssertEqual(try Checkpoint(path: path).sha256, bytes.withUnsafeBytes { SHA256.hex($0) })
    }

    func testDigestsAreRememberedByFileIdentityOnly() throws {
        let dir = TempDir()
        setenv("XDG_CACHE_HOME", dir.path("cache"), 1)
        defer { unsetenv("XDG_CACHE_HOME") }
        let path = dir.path("m.safetensors")
        try Checkpoint.initialized(try ModelConfig.preset("tiny", bits: 18, groupSize: nil, conv: true, named: "t"), seed: 1).write(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let truth = bytes.withUnsafeBytes { SHA256.hex($0) }
        XCTAssertEqual(try Checkpoint(path: path).sha256, truth)
        let cached = try FileManager.default.contentsOfDirectory(atPath: dir.path("cache/bsq-audio/sha256"))
        XCTAssertEqual(cached.count, 1)
        XCTAssertEqual(try String(contentsOfFile: dir.path("cache/bsq-audio/sha256/" + cached[0]), encoding: .utf8), truth)

        // a planted entry for this very file is what the next load says: the cache is trusted for its key...
        try String(repeating: "a", count: 64).write(toFile: dir.path("cache/bsq-audio/sha256/" + cached[0]), atomically: true, encoding: .utf8)
        XCTAssertEqual(try Checkpoint(path: path).sha256, String(repeating: "a", count: 64))
        // ...an entry that is not a digest is not,
        try "not a digest".write(toFile: dir.path("cache/bsq-audio/sha256/" + cached[0]), atomically: true, encoding: .utf8)
        XCTAssertEqual(try Checkpoint(path: path).sha256, truth)
        // and a file changed in place (same size, one byte) has another key
        var changed = bytes
        changed[changed.count - 1] ^= 1
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seek(toOffset: UInt64(bytes.count - 1))
        try h.write(contentsOf: changed.suffix(1))
        try h.close()
        let changedTruth = changed.withUnsafeBytes { SHA256.hex($0) }
        XCTAssertNotEqual(changedTruth, truth)
        XCTAssertEqual(try SafeTensors(path: path).sha256, changedTruth)
        XCTAssertEqual(try Checkpoint(path: path).sha256, changedTruth, "a changed file is hashed again")
        setenv("BSQ_CACHE", "off", 1)
        defer { unsetenv("BSQ_CACHE") }
        try FileManager.default.removeItem(atPath: dir.path("cache"))
        XCTAssertEqual(try Checkpoint(path: path).sha256, changedTruth)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("cache")), "BSQ_CACHE=off writes nothing")
    }
}
