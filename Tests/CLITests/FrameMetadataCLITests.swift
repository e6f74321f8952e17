import BSQAudio
import Foundation
import TestSupport
import XCTest

/// The frames `mel`, `bsq-encode` and `bsq-decode` write are the frames
/// MelFrame and CodesFrame build: each, rebuilt from its values and the
/// metadata of the frame it came from, encodes to the same bytes.
final class FrameMetadataCLITests: XCTestCase {
    func run(_ tool: String, _ args: [String], stdin: [UInt8] = [], file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let r = try Tool.run(tool, args, stdin: stdin)
        XCTAssertEqual(r.status, 0, "\(tool): \(r.stderr)", file: file, line: line)
        return r.stdout
    }

    func testMelWritesMelFrames() throws {
        let dir = TempDir(), wav = dir.path("a.wav")
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 2.5, rate: 16000), rate: 16000, to: wav)
        var reflect = MelAnalysis.librosa
        reflect.padMode = .reflect
        reflect.topDB = nil
        let cases: [([String], MelAnalysis, MelFrame.Crop?)] = [
            ([], .librosa, nil),
            (["--frames", "64", "--crop", "center", "--pad-mode", "reflect", "--top-db", "none"], reflect, MelFrame.Crop(offset: 93, of: 251)),
            (["--frames", "300"], .librosa, MelFrame.Crop(offset: 0, of: 251)),
        ]
        for (args, analysis, crop) in cases {
            let out = try run("mel", args + [wav])
            let mel = try MelFrame(try decodeFrames(out)[0])
            XCTAssertEqual(try mel.analysis()?.metadata, analysis.metadata, "\(args)")
            XCTAssertEqual(mel.crop, crop, "\(args)")
            let built = MelFrame(values: mel.values, frames: mel.frames, nMels: mel.nMels, key: "a", source: wav, analysis: analysis, crop: crop)
            XCTAssertEqual(try FrameWriter.encode(built.frame), out, "\(args)")
        }
    }

    func testEncodeWritesCodesFramesAndDecodeMelFrames() throws {
        let dir = TempDir(), wav = dir.path("a.wav"), model = dir.path("tiny.safetensors")
        try SyntheticAudio.write(SyntheticAudio.voice(seconds: 5, rate: 16000), rate: 16000, to: wav)
        _ = try run("bsq-train", ["init", "--preset", "tiny", "--seed", "5", "-o", model])
        let sha = try Repo.read(model).withUnsafeBytes { SHA256.hex($0) }
        let melBytes = try run("mel", ["--frames", "300", "--crop", "center", wav])
        let mel = try decodeFrames(melBytes)[0]
        for (args, stamp) in [(["-m", model], CodesFrame.Model(name: "tiny", sha256: sha)), ([], nil)] {
            let out = try run("bsq-encode", args, stdin: melBytes)
            let codes = try CodesFrame(try decodeFrames(out)[0])
            XCTAssertEqual(codes.frames, 300)
            XCTAssertEqual(codes.seconds, 3)
            XCTAssertEqual(codes.coveredTimePatches, 19, "⌈300 / 16⌉")
            XCTAssertNil(codes.frame.meta["crop"], "the codes stand for the rows encoded")
            if let stamp { XCTAssertEqual(codes.model, stamp) } else { XCTAssertEqual(codes.model?.isDefault, true) }
            let model = try XCTUnwrap(codes.model)
            let built = CodesFrame(tokens: codes.tokens, timePatches: codes.frame.dims[0], freqPatches: codes.frame.dims[1],
                                   bits: codes.bits, frames: 300, covered: 19, model: model, passing: mel.meta)
            XCTAssertEqual(try FrameWriter.encode(built.frame), out, "\(args)")

            let decoded = try run("bsq-decode", args, stdin: out)
            let rec = try MelFrame(try decodeFrames(decoded)[0])
            XCTAssertEqual(rec.frame.dims, [300, 128])
            XCTAssertEqual(rec.key, "a")
            XCTAssertEqual(rec.source, wav)
            XCTAssertTrue(rec.isDecoded)
            XCTAssertEqual(rec.frame.meta["decoded_by"], model.metadata, "the decoded frames name the model that made them")
            let rebuilt = MelFrame(values: rec.values, frames: rec.frames, nMels: rec.nMels, decodedBy: model, passing: codes.frame.meta)
            XCTAssertEqual(try FrameWriter.encode(rebuilt.frame), decoded, "\(args)")
        }
    }
}
