import BSQAudio
import BSQONNX
import Foundation
import TestSupport
import XCTest

/// `bsq-train export --onnx`: the graphs' interface, written atomically into
/// a folder. (Their numbers are checked against the tools with ONNX Runtime
/// in python/tests/test_onnx.py, run by make python-test.)
final class ONNXExportCLITests: XCTestCase {
    func testExportWritesTwoGraphsWithTheDocumentedInterface() throws {
        let dir = TempDir()
        let model = Repo.fixture("model/micro18.safetensors").path
        let out = dir.path("onnx/micro")
        let r = try Tool.run("bsq-train", ["export", "--onnx", "-o", out, model])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["decoder.onnx", "encoder.onnx"])
        let ck = try Checkpoint(path: model)
        let c = ck.config
        for (file, input, output) in [("encoder.onnx", "mel", "codes"), ("decoder.onnx", "codes", "mel")] {
            let m = try Onnx_ModelProto(serializedBytes: try Repo.read(out + "/" + file))
            XCTAssertEqual(m.irVersion, 8)
            XCTAssertEqual(m.opsetImport.map(\.version), [17])
            XCTAssertEqual(m.graph.input.map(\.name), [input])
            XCTAssertEqual(m.graph.output.map(\.name), [output])
            let melDims = ["batch", String(c.frames), String(c.n_mels)]
            let codeDims = ["batch", String(c.nt), String(c.nf)]
            func dims(_ v: Onnx_ValueInfoProto) -> [String] {
                v.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? String($0.dimValue) : $0.dimParam }
            }
            XCTAssertEqual(dims(m.graph.input[0]), input == "mel" ? melDims : codeDims, file)
            XCTAssertEqual(dims(m.graph.output[0]), output == "mel" ? melDims : codeDims, file)
            XCTAssertEqual(m.graph.input[0].type.tensorType.elemType, input == "mel" ? 1 : 7, "float32 mel, int64 codes")
            let meta = Dictionary(uniqueKeysWithValues: m.metadataProps.map { ($0.key, $0.value) })
            XCTAssertEqual(meta["model_sha256"], ck.sha256)
            XCTAssertEqual(meta["bits"], "18")
            // every weight the half of the model needs is there, under its checkpoint key
            let names = Set(m.graph.initializer.map(\.name))
            let half = file == "encoder.onnx" ? "encoder." : "decoder."
            for s in ck.layout.slots where s.name.hasPrefix(half) {
                XCTAssertTrue(names.contains(s.name), "\(file): \(s.name)")
            }
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: out).contains { $0.contains(".tmp") })
    }

    func testExportRefusesWhatItCannotWrite() throws {
        let dir = TempDir()
        let f16 = try Tool.run("bsq-train", ["export", "--onnx", "--f16", "-o", dir.path("x"), Repo.fixture("model/micro18.safetensors").path])
        XCTAssertNotEqual(f16.status, 0)
        XCTAssertTrue(f16.stderr.contains("--onnx writes float32 graphs"), f16.stderr)
        let missing = try Tool.run("bsq-train", ["export", "--onnx", "-o", dir.path("m"), dir.path("nothing.safetensors")])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("bsq-train: "), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("m")), "nothing written for a checkpoint that cannot be read")
    }

    func testVocoderExportWritesOneGraph() throws {
        let dir = TempDir()
        let vocoder = Repo.root.path + "/Sources/BSQAudio/Resources/bsq-audio-vocos-tiny.safetensors"
        let r = try Tool.run("bsq-train", ["export", "--onnx", "-o", dir.path("v"), vocoder])
        XCTAssertEqual(r.status, 0, r.stderr)
        let m = try Onnx_ModelProto(serializedBytes: try Repo.read(dir.path("v/vocoder.onnx")))
        XCTAssertEqual(m.graph.input.map(\.name), ["mel"])
        XCTAssertEqual(m.graph.output.map(\.name), ["audio"])
        XCTAssertEqual(m.graph.input[0].type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? String($0.dimValue) : $0.dimParam },
                       ["batch", "frames", "128"])
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: m.metadataProps.map { ($0.key, $0.value) })["hop_length"], "160")
    }
}
