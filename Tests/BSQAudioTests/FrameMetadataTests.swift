import BSQAudio
import Foundation
import TestSupport
import XCTest

/// MelFrame and CodesFrame write their metadata and read it back.
final class FrameMetadataTests: XCTestCase {
    func serialized(_ f: Frame) -> String { JSONValue.object(f.meta).serialized() }

    func testMelFrameWritesItsMetadataInOrderAndReadsItBack() throws {
        var a = MelAnalysis.librosa
        a.nMels = 2
        a.topDB = nil
        let mel = MelFrame(values: [-1, -2, -3, -4, -5, -6], frames: 3, nMels: 2, key: "d/u", source: "d/u.wav",
                           analysis: a, crop: MelFrame.Crop(offset: 4, of: 7))
        XCTAssertEqual(mel.frame.dtype, .f32)
        XCTAssertEqual(mel.frame.dims, [3, 2])
        XCTAssertEqual(mel.frame.meta.keys, ["kind", "key", "source", "axes", "mel", "crop"])
        XCTAssertTrue(serialized(mel.frame).hasSuffix(#""top_db":null}},"crop":{"offset":4,"of":7}}"#), serialized(mel.frame))
        let back = try MelFrame(try decodeFrames(try FrameWriter.encode(mel.frame))[0])
        XCTAssertEqual(back.values, [-1, -2, -3, -4, -5, -6])
        XCTAssertEqual(back.key, "d/u")
        XCTAssertEqual(back.source, "d/u.wav")
        XCTAssertEqual(try back.analysis()?.metadata, a.metadata)
        XCTAssertNil(back.topDB)
        XCTAssertEqual(back.crop, MelFrame.Crop(offset: 4, of: 7))
        let bare = MelFrame(values: [0], frames: 1, nMels: 1)
        XCTAssertEqual(serialized(bare.frame), #"{"kind":"mel","axes":["time","mel"]}"#)
        XCTAssertNil(try bare.analysis())
        XCTAssertNil(bare.crop)
    }

    func testMelFramePassesOnTheMetadataOfCodes() throws {
        let codes: JSONObject = try JSONValue.parse(#"{"kind":"codes","key":"k","source":"s.wav","mel":{"hop_length":160},"# +
            #""custom":[1],"axes":["time_patch","freq_patch"],"frames":3,"bits":18,"model":{"name":"m","sha256":"ab"}}"#).object!
        let mel = MelFrame(values: [Float](repeating: 0, count: 6), frames: 3, nMels: 2, passing: codes)
        XCTAssertEqual(serialized(mel.frame), #"{"kind":"mel","key":"k","source":"s.wav","mel":{"hop_length":160},"custom":[1],"axes":["time","mel"]}"#)
        let renamed = MelFrame(values: [0, 0], frames: 1, nMels: 2, key: "new", crop: MelFrame.Crop(offset: 0, of: 1), passing: codes)
        XCTAssertEqual(renamed.frame.meta.keys, ["kind", "key", "source", "mel", "custom", "axes", "crop"], "a key given replaces the passed-on one in place")
        XCTAssertEqual(renamed.key, "new")
        XCTAssertThrowsError(try MelFrame(Frame([UInt32(1)], dims: [1, 1], meta: codes))) {
            XCTAssertEqual(($0 as? BSQError)?.message, #"not a mel frame: kind "codes", u32 [1,1] (expected kind "mel", f32 [frames, n_mels])"#)
        }
        var wrong = mel.frame
        wrong.meta["mel"] = ["n_fft": "big"]
        XCTAssertThrowsError(try MelFrame(wrong).analysis()) { XCTAssertEqual(($0 as? BSQError)?.message, "mel.n_fft is not a number") }
    }

    func testCodesFrameWritesItsMetadataInOrderAndReadsItBack() throws {
        let mel: JSONObject = try JSONValue.parse(#"{"kind":"mel","key":"k","source":"s.wav","axes":["time","mel"],"# +
            #""mel":{"sample_rate":8000,"hop_length":80},"crop":{"offset":1,"of":9},"specaug":{"seed":1}}"#).object!
        let model = CodesFrame.Model(name: "tiny", sha256: "0123")
        let codes = CodesFrame(tokens: [1, 2, 3, (1 << 18) - 1], timePatches: 2, freqPatches: 2, bits: 18, frames: 100, covered: 1, model: model, passing: mel)
        XCTAssertEqual(codes.frame.dtype, .u32)
        XCTAssertEqual(codes.frame.dims, [2, 2])
        XCTAssertEqual(serialized(codes.frame), #"{"kind":"codes","key":"k","source":"s.wav","mel":{"sample_rate":8000,"hop_length":80},"# +
            #""specaug":{"seed":1},"axes":["time_patch","freq_patch"],"frames":100,"covered_time_patches":1,"bits":18,"model":{"name":"tiny","sha256":"0123"}}"#)
        let back = try CodesFrame(try decodeFrames(try FrameWriter.encode(codes.frame))[0])
        XCTAssertEqual(back.tokens, [1, 2, 3, (1 << 18) - 1])
        XCTAssertEqual(back.bits, 18)
        XCTAssertEqual(back.frames, 100)
        XCTAssertEqual(back.coveredTimePatches, 1)
        XCTAssertEqual(Array(back.coveredTokens), [1, 2], "the first time patch's tokens")
        XCTAssertEqual(back.key, "k")
        XCTAssertEqual(back.model, model)
        XCTAssertEqual(back.seconds, 1.0)
        XCTAssertEqual(codes.seconds, 1.0)

        let wide = CodesFrame(tokens: [1 << 35, 7], timePatches: 1, freqPatches: 2, bits: 36, frames: 4, covered: 1,
                              model: CodesFrame.Model(name: "d", sha256: "ff", isDefault: true))
        XCTAssertEqual(wide.frame.dtype, .u64)
        XCTAssertEqual(try wide.frame.values(as: UInt64.self), [1 << 35, 7])
        XCTAssertEqual(serialized(wide.frame), #"{"kind":"codes","axes":["time_patch","freq_patch"],"frames":4,"covered_time_patches":1,"bits":36,"model":{"name":"d","sha256":"ff","default":true}}"#)
        XCTAssertEqual(CodesFrame(tokens: [0], timePatches: 1, freqPatches: 1, bits: 1, frames: 1, covered: 1, model: model).model, model)
        XCTAssertEqual(wide.hopLength, 160, "without mel metadata: mel's defaults")
        XCTAssertEqual(wide.sampleRate, 16000)
        XCTAssertThrowsError(try CodesFrame(wide.frame)) {
            XCTAssertEqual(($0 as? BSQError)?.message, "metadata mel.hop_length must be an integer > 0 (got nothing)")
        }
    }
}
