import BSQAudio
import Foundation
import TestSupport
import XCTest

final class FrameFormatTests: XCTestCase {
    /// A frame of `dtype` and `dims` filled with distinct bytes.
    func sample(_ dtype: DType, _ dims: [Int], key: String) -> Frame {
        let n = Frame.byteCount(dtype: dtype, dims: dims)!
        let payload = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ dims.count) }
        return Frame(dtype: dtype, dims: dims, meta: JSONObject(["kind": "tensor", "key": .string(key), "note": ["é", 1.5, .null]]), payload: payload)
    }

    func allSamples() -> [Frame] {
        var out: [Frame] = []
        for dtype in DType.allCases {
            for rank in 0...8 {
                let dims = (0..<rank).map { [3, 2, 1, 2][$0 % 4] }
                out.append(sample(dtype, dims, key: "\(dtype.name)/r\(rank)"))
            }
            out.append(sample(dtype, [0], key: "\(dtype.name)/empty"))
            out.append(sample(dtype, [3, 0, 2], key: "\(dtype.name)/empty3"))
        }
        return out
    }

    func testRoundTripEveryDTypeAndRankPlainAndZstd() throws {
        let frames = allSamples()
        for zstd in [false, true] {
            let bytes = try encodeFrames(frames, zstd: zstd)
            let back = try decodeFrames(bytes)
            XCTAssertEqual(back.count, frames.count)
            for (a, b) in zip(frames, back) {
                XCTAssertEqual(a.dtype, b.dtype)
                XCTAssertEqual(a.dims, b.dims)
                XCTAssertEqual(a.meta, b.meta)
                XCTAssertEqual(a.payload, b.payload)
            }
        }
    }

    func testMetadataKeepsKeyOrderAndUnknownKeys() throws {
        let text = #"{"zeta":1,"kind":"mel","alpha":{"b":[1,2,{"c":"\u00e9\n"}],"a":null},"big":12345678901}"#
        let meta = try JSONValue.parse(text).object!
        XCTAssertEqual(meta.keys, ["zeta", "kind", "alpha", "big"])
        let f = Frame([Float(1), 2], dims: [2], meta: meta)
        let back = try decodeFrames(try FrameWriter.encode(f))[0]
        XCTAssertEqual(JSONValue.object(back.meta).serialized(), #"{"zeta":1,"kind":"mel","alpha":{"b":[1,2,{"c":"é\n"}],"a":null},"big":12345678901}"#)
    }

    func testMetadataNumbersPassThroughExactly() throws {
        let text = #"{"a":9007199254740993,"b":-0.0,"c":12345678901234567890,"d":1.5,"e":3,"f":-0}"#
        let v = try JSONValue.parse(text)
        XCTAssertEqual(v.serialized(), #"{"a":9007199254740993,"b":-0.0,"c":12345678901234567890,"d":1.5,"e":3,"f":-0}"#)
        XCTAssertEqual(v["a"]?.int, 9_007_199_254_740_993)
        XCTAssertEqual(v["c"]?.number, 12345678901234567890.0)
        XCTAssertEqual(v["e"], .number(3))
        let frame = Frame([Float(1)], dims: [1], meta: v.object!)
        let back = try decodeFrames(try FrameWriter.encode(frame, zstd: true))[0]
        XCTAssertEqual(JSONValue.object(back.meta).serialized(), v.serialized(), "a re-encoded frame keeps its numbers")
    }

    /// Numbers beyond a Double's range pass through as written (once 1e410 became null and 1e-400 became 0).
    func testMetadataNumbersBeyondADoublesRangePassThrough() throws {
        let text = #"{"huge":1e410,"tiny":-1.5e-400,"zero":0.0e-400,"n":[2E+308]}"#
        let v = try JSONValue.parse(text)
        XCTAssertEqual(v.serialized(), text.replacingOccurrences(of: "0.0e-400", with: "0"), "a true zero is written as 0")
        XCTAssertNil(v["huge"]?.int, "not an integer a size could come from")
        XCTAssertEqual(v["huge"]?.number, .infinity)
        XCTAssertEqual(v["zero"], .number(0))
    }

    func testMatchesZlibCRC() {
        // zlib.crc32(b"123456789") == 0xCBF43926, the standard check value.
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        // Incremental updates over uneven pieces equal the one-shot value.
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        var c = CRC32()
        c.update(Array(data[0..<3]))
        c.update(Array(data[3..<1001]))
        c.update(Array(data[1001...]))
        XCTAssertEqual(c.value, CRC32.checksum(data))
        XCTAssertEqual(CRC32.checksum(data), 0xea02fda0)  // zlib.crc32 of the same bytes
    }

    func testCRCOfLargeBuffersEqualsTheBitwiseDefinition() {
        func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            }
            return ~c
        }
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: ($0 &* 7919) >> 3) }
        XCTAssertEqual(CRC32.checksum(big), 0xca198c9d)                       // zlib.crc32
        XCTAssertEqual(CRC32.checksum(Array(big[0..<100_003])), 0x363cb50e)   // zlib.crc32
        for n in [4095, 4096, 4097, 4103, 4104, 5000, 8191, 12_345, 65_537] {
            XCTAssertEqual(CRC32.checksum(Array(big[7..<(7 + n)])), bitwise(big[7..<(7 + n)]), "\(n) bytes")
        }
        var c = CRC32()
        c.update(Array(big[0..<10]))
        c.update(Array(big[10..<70_000]))
        c.update(Array(big[70_000...]))
        XCTAssertEqual(c.value, 0xca198c9d, "streamed pieces continue the running CRC")
    }

    func testSHA256MatchesTheStandardVectors() {
        // FIPS 180-4 examples, and a million 'a's (NIST's long message), in uneven pieces
        XCTAssertEqual(Array("".utf8).withUnsafeBytes { SHA256.hex($0) }, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Array("abc".utf8).withUnsafeBytes { SHA256.hex($0) }, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        XCTAssertEqual(Array(two.utf8).withUnsafeBytes { SHA256.hex($0) }, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let a = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let s = SHA256()
        s.update(Array(a[0..<3])); s.update(Array(a[3..<65_539])); s.update(Array(a[65_539...]))
        XCTAssertEqual(s.finish().map { String(format: "%02x", $0) }.joined(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testPythonWrittenBytesAreIdentical() throws {
        // bsqt.py (numpy + zlib) encodes this exact frame to these bytes.
        let f = Frame([Float(0), 1, 2, 3, 4, 5], dims: [2, 3], meta: JSONObject(["kind": "mel", "key": "a"]))
        let bytes = try FrameWriter.encode(f)
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(hex, "425351540101020018000000020000000000000003000000000000007b226b696e64223a226d656c222c226b6579223a2261227d1800000000000000000000000000803f0000004000004040000080400000a040bd2267c3")
    }

    // MARK: - Corruption

    func expectError(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decodeFrames(bytes), file: file, line: line) { e in
            let m = (e as? BSQError)?.message ?? "\(e)"
            XCTAssertTrue(m.contains(fragment), "'\(m)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    func smallFrame() throws -> [UInt8] {
        try FrameWriter.encode(Frame([Int16(1), -2, 3], dims: [3], meta: JSONObject(["kind": "tensor"])))
    }

    func testTruncationAtEveryByteNamesTheFrameOffset() throws {
        let one = try smallFrame()
        let two = one + one
        for cut in 1..<one.count {
            expectError(Array(one[0..<cut]), "stream ends inside a frame at byte 0")
            expectError(Array(two[0..<(one.count + cut)]), "stream ends inside a frame at byte \(one.count)")
        }
        XCTAssertEqual(try decodeFrames([]).count, 0)
        XCTAssertEqual(try decodeFrames(two).count, 2)
    }

    func testEveryHeaderFieldWrong() throws {
        let good = try smallFrame()
        let prefix = try smallFrame()
        let at = prefix.count
        func bad(_ edit: (inout [UInt8]) -> Void, _ fragment: String) {
            var b = good
            edit(&b)
            expectError(prefix + b, fragment)
            expectError(prefix + b, " at byte \(at)")
        }
        bad({ $0[0] = UInt8(ascii: "X") }, "bad magic")
        bad({ $0[4] = 2 }, "unknown version 2")
        bad({ $0[5] = 0 }, "unknown dtype code 0")
        bad({ $0[5] = 10 }, "unknown dtype code 10")
        bad({ $0[6] = 9 }, "rank 9 > 8")
        bad({ $0[7] = 2 }, "unknown flag bits 0x2")
        bad({ $0[7] = 0x80 }, "unknown flag bits 0x80")
        bad({ $0[8] = 0; $0[9] = 0; $0[10] = 0x20 }, "exceeds 1 MiB")
        bad({ $0[12] = 4 }, "payload of 6 bytes, expected 8")
        bad({ $0[20] = UInt8(ascii: "[") }, "metadata is not a JSON object")
        bad({ $0[good.count - 8] ^= 0x10 }, "CRC mismatch")
        bad({ $0[good.count - 1] ^= 0x01 }, "CRC mismatch")
        bad({ $0[7] = 1 }, "CRC mismatch")  // the flag is covered by the CRC
    }

    func testFlippedPayloadBitIsACRCMismatch() throws {
        var b = try smallFrame()
        let payloadStart = b.count - 4 - 6
        for bit in 0..<8 {
            var c = b
            c[payloadStart + 3] ^= UInt8(1 << bit)
            expectError(c, "CRC mismatch")
        }
        b[payloadStart] ^= 0xFF
        expectError(b, "CRC mismatch (stored ")
        expectError(b, ") at byte 0")
    }

    func testAbsurdDimsAreErrorsNotAllocations() throws {
        // dims whose product overflows, or claims exabytes, on a tiny stream.
        for dims: [UInt64] in [[UInt64.max], [1 << 40, 1 << 40], [1 << 62, 4], [1 << 33, 1 << 3]] {
            var h: [UInt8] = Array("BSQT".utf8) + [1, DType.f64.rawValue, UInt8(dims.count), 0, 2, 0, 0, 0]
            for d in dims { withUnsafeBytes(of: d.littleEndian) { h += $0 } }
            h += Array("{}".utf8)
            withUnsafeBytes(of: UInt64(8).littleEndian) { h += $0 }
            h += [UInt8](repeating: 0, count: 12)
            expectError(h, "at byte 0")
        }
        // A zstd frame that claims a payload larger than its dims can compress to.
        var h: [UInt8] = Array("BSQT".utf8) + [1, DType.u8.rawValue, 1, 1, 2, 0, 0, 0]
        withUnsafeBytes(of: UInt64(4).littleEndian) { h += $0 }
        h += Array("{}".utf8)
        withUnsafeBytes(of: UInt64(1 << 50).littleEndian) { h += $0 }
        expectError(h, "compressed payload")
    }

    func testZstdContentSizeMustMatchDims() throws {
        let f = Frame([UInt8](repeating: 7, count: 100), dims: [100])
        var bytes = try FrameWriter.encode(f, zstd: true)
        // Claim 50 elements instead of 100 and fix the CRC: the content size check must catch it.
        bytes[12] = 50
        let body = Array(bytes[0..<(bytes.count - 4)])
        bytes = body
        withUnsafeBytes(of: CRC32.checksum(body).littleEndian) { bytes += $0 }
        expectError(bytes, "zstd content of 100 bytes, expected 50 at byte 0")
    }

    // MARK: - npy

    func testNpyRoundTripEveryDType() throws {
        for f in allSamples() {
            let back = try Npy.decode(Npy.encode(f), name: "x.npy")
            XCTAssertEqual(back.dtype, f.dtype)
            XCTAssertEqual(back.dims, f.dims)
            XCTAssertEqual(back.payload, f.payload)
            XCTAssertEqual(Npy.encode(f).count % 64, f.payload.count % 64)
        }
    }
}
