import BSQAudio
import Foundation

/// Writes the generated part of the seed corpora (fuzz/make_corpus.sh copies
/// the fixtures): small inputs of each kind made with the library's own
/// writers, so that every seed is well-formed and each target starts past
/// its format checks. Usage: fuzz-seeds CORPUS_DIR
let root = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "corpus"

func put(_ target: String, _ name: String, _ bytes: [UInt8]) {
    let dir = root + "/" + target
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
}
func put(_ target: String, _ name: String, _ text: String) { put(target, name, Array(text.utf8)) }
func read(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path)!) }
func tmp(_ name: String) -> String { NSTemporaryDirectory() + "/bsq-fuzz-seeds-\(getpid())-" + name }

/// Values of each dtype for `n` elements (a ramp with a sign change and a large value).
func frame(_ dtype: DType, dims: [Int], meta: JSONObject) -> Frame {
    let n = dims.reduce(1, *)
    var bytes = [UInt8]()
    for i in 0..<n {
        let x = Double(i) - Double(n) / 3
        switch dtype {
        case .f32: withUnsafeBytes(of: Float(x * 1.5).bitPattern.littleEndian) { bytes += $0 }
        case .f64: withUnsafeBytes(of: (x * 1e3).bitPattern.littleEndian) { bytes += $0 }
        case .f16: withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { bytes += $0 }
        case .u8: bytes.append(UInt8(truncatingIfNeeded: i * 37))
        case .i16: withUnsafeBytes(of: Int16(truncatingIfNeeded: Int(x) * 311).littleEndian) { bytes += $0 }
        case .i32: withUnsafeBytes(of: Int32(truncatingIfNeeded: Int(x) * 70001).littleEndian) { bytes += $0 }
        case .u32: withUnsafeBytes(of: UInt32(truncatingIfNeeded: i * 262_139).littleEndian) { bytes += $0 }
        case .i64: withUnsafeBytes(of: (Int64(x) << 40).littleEndian) { bytes += $0 }
        case .u64: withUnsafeBytes(of: (UInt64(i) << 44 | 7).littleEndian) { bytes += $0 }
        }
    }
    return Frame(dtype: dtype, dims: dims, meta: meta, payload: bytes)
}

// MARK: frames and frames-zstd

var analysis = MelAnalysis()
analysis.sampleRate = 8000
analysis.nFFT = 256
analysis.hopLength = 64
analysis.nMels = 16
let model = CodesFrame.Model(name: "micro18", sha256: String(repeating: "ab", count: 32), isDefault: false)
let mel = MelFrame(values: (0..<64).map { -Float($0 % 80) }, frames: 4, nMels: 16, key: "spk/utt-1", source: "a.wav",
                   analysis: analysis, crop: .init(offset: 2, of: 10))
let codes = CodesFrame(tokens: [1, 2, 3, 262_143], timePatches: 2, freqPatches: 2, bits: 18, frames: 32, covered: 2, model: model,
                       passing: mel.frame.meta)
let codes64 = CodesFrame(tokens: [1, 1 << 40], timePatches: 1, freqPatches: 2, bits: 44, frames: 16, covered: 1, model: model,
                         passing: mel.frame.meta)
let decoded = MelFrame(values: [Float](repeating: -3, count: 32), frames: 2, nMels: 16, key: "spk/utt-1",
                       analysis: analysis, decodedBy: model, passing: codes.frame.meta)
let named: [(String, Frame)] = [("mel", mel.frame), ("codes", codes.frame), ("codes64", codes64.frame), ("decoded", decoded.frame)]
for (name, f) in named {
    put("fuzz-frames", name + ".bsqt", try FrameWriter.encode(f))
    put("fuzz-frames", name + ".zst.bsqt", try FrameWriter.encode(f, zstd: true))
}
put("fuzz-frames", "stream.bsqt", try named.flatMap { try FrameWriter.encode($0.1, zstd: $0.0 == "codes") })
for (i, dtype) in DType.allCases.enumerated() {
    let dims = [[], [3], [2, 3], [2, 1, 2], [0, 4]][i % 5]
    let note: JSONValue = ["x": 1.5, "n": .null, "s": "é\n\u{1}"]
    let meta = JSONObject(["key": .string("t\(i)"), "note": note])
    let f = frame(dtype, dims: dims, meta: meta)
    put("fuzz-frames", "\(dtype.name).bsqt", try FrameWriter.encode(f))
    put("fuzz-frames", "\(dtype.name).zst.bsqt", try FrameWriter.encode(f, zstd: true))
    // frames-zstd: [dtype index, dims as the target reads them] + one zstd frame of that content
    for (a, b) in [(2, 1), (16, 17)] {
        let g = frame(dtype, dims: [a, b], meta: JSONObject())
        let z = try g.payload.withUnsafeBytes { try Zstd.compress($0) }
        put("fuzz-frames-zstd", "\(dtype.name)-\(a)x\(b).bin", [UInt8(i), UInt8(a >> 4), UInt8((a & 15) << 4 | (b >> 4))] + z)
    }
}
let long = frame(.f32, dims: [200, 16], meta: JSONObject())
put("fuzz-frames-zstd", "f32-200x16.bin", [0, UInt8(200 >> 4), UInt8((200 & 15) << 4 | 1)] + (try long.payload.withUnsafeBytes { try Zstd.compress($0, level: 19) }))

// MARK: npy

for (i, dtype) in DType.allCases.enumerated() {
    let dims = [[], [5], [2, 3], [2, 2, 2]][i % 4]
    put("fuzz-npy", "\(dtype.name).npy", Npy.encode(frame(dtype, dims: dims, meta: JSONObject())))
}
// Fortran order and big-endian (the header rewritten; the data of a 2×3 i16 frame reordered by hand)
let cOrder = Npy.encode(frame(.i16, dims: [2, 3], meta: JSONObject()))
func rewrite(_ npy: [UInt8], _ from: String, _ to: String) -> [UInt8] {
    precondition(from.utf8.count == to.utf8.count)
    let text = String(decoding: npy[10..<(10 + Int(npy[8]) + Int(npy[9]) << 8)], as: UTF8.self)
    return Array(npy[..<10]) + Array(text.replacingOccurrences(of: from, with: to).utf8) + Array(npy[(10 + text.utf8.count)...])
}
put("fuzz-npy", "fortran_i16.npy", rewrite(cOrder, "'fortran_order': False", "'fortran_order': True "))
put("fuzz-npy", "bigendian_i16.npy", rewrite(cOrder, "'<i2'", "'>i2'"))
var v2 = cOrder
v2[6] = 2
v2.insert(contentsOf: [0, 0], at: 10)
put("fuzz-npy", "v2_i16.npy", v2)

// MARK: metadata and configurations

var tinyModel = ModelConfig()
tinyModel.name = "fuzz"; tinyModel.n_mels = 16; tinyModel.frames = 16; tinyModel.width = 4; tinyModel.heads = 1
tinyModel.layers = 1; tinyModel.mlp_ratio = 1; tinyModel.conv_kernel = 3; tinyModel.embed_dim = 4; tinyModel.group_size = 2
tinyModel.decoder_ffn = 4
try tinyModel.validate()
put("fuzz-metadata-config", "model-tiny.json", ModelConfig.tiny.json)
put("fuzz-metadata-config", "model-fuzz.json", tinyModel.json)
var masked = tinyModel
masked.mask_token = true; masked.sample_rate = 8000; masked.hop_length = 64; masked.persample_entropy = "analytical"
put("fuzz-metadata-config", "model-masked.json", masked.json)
let run = RunConfig(model: tinyModel, train: TrainConfig())
try run.validate()
put("fuzz-metadata-config", "run.json", run.json)
if let adv = try? RunConfig.resolve(preset: "tiny", file: nil, overrides: ["disc.weight=0.1", "train.mask_ratio=0.5", "model.mask_token=true"]) {
    put("fuzz-metadata-config", "run-disc.json", adv.json)
}
put("fuzz-metadata-config", "run-overrides.txt", "{\"model\":{\"width\":96,\"heads\":2},\"train\":{\"lr\":0.001}}\0train.steps=10\nmodel.layers=2\ndisc.weight=0.5")
put("fuzz-metadata-config", "vocoder-tiny.json", VocoderConfig.tiny.json)
var tinyVocoder = VocoderConfig()
tinyVocoder.name = "fuzz"; tinyVocoder.sample_rate = 8000; tinyVocoder.hop_length = 16; tinyVocoder.n_mels = 8
tinyVocoder.dim = 4; tinyVocoder.ffn = 4; tinyVocoder.layers = 1; tinyVocoder.kernel = 3
put("fuzz-metadata-config", "vocoder-fuzz.json", tinyVocoder.json)
let vocoderRun = try VocoderRunConfig.resolve(preset: "tiny", file: nil, overrides: [])
put("fuzz-metadata-config", "vocoder-run.json", vocoderRun.json)
if let adv = try? VocoderRunConfig.resolve(preset: "tiny", file: nil, overrides: ["disc.weight=0.1"]) {
    put("fuzz-metadata-config", "vocoder-run-disc.json", adv.json)
}
put("fuzz-metadata-config", "vocoder-overrides.txt", "{\"vocoder\":{\"dim\":8}}\0train.batch=2\nvocoder.layers=1")
for (name, f) in named { put("fuzz-metadata-config", "meta-\(name).json", JSONValue.object(f.meta).serialized()) }
put("fuzz-metadata-config", "mel-analysis.json", analysis.metadata.serialized())
put("fuzz-metadata-config", "json-values.json", "[1e400,-0,0.5,12345678901234567890,\"\\ud83d\\ude00\\u0000\",true,false,null,{},[[]]]")

// MARK: safetensors

func safetensors(_ name: String, _ write: (String) throws -> Void) {
    let path = tmp(name)
    do {
        try write(path)
        put("fuzz-safetensors", name, read(path))
    } catch {
        FileHandle.standardError.write(Data("fuzz-seeds: \(name): \(error)\n".utf8))
    }
    unlink(path)
}
let tinyCheckpoint = Checkpoint.initialized(tinyModel, seed: 1)
safetensors("model-fuzz.safetensors") { try tinyCheckpoint.write(to: $0) }
safetensors("model-fuzz-f16.safetensors") { try tinyCheckpoint.write(to: $0, half: true) }
safetensors("model-masked.safetensors") { try Checkpoint.initialized(masked, seed: 2).write(to: $0) }
safetensors("train-state.safetensors") { try TrainingState(run: run).save(to: $0) }
safetensors("vocoder-fuzz.safetensors") {
    let layout = VocosNetwork(tinyVocoder).layout
    try VocoderCheckpoint(config: tinyVocoder, weights: [Float](repeating: 0.25, count: layout.count)).write(to: $0)
}
safetensors("vocoder-state.safetensors") {
    let file = tmp("vocoder-run.json")
    _ = FileManager.default.createFile(atPath: file, contents: Data("{\"vocoder\":\(tinyVocoder.json)}".utf8))
    defer { unlink(file) }
    try VocoderState(run: try VocoderRunConfig.resolve(preset: "tiny", file: file, overrides: [])).save(to: $0)
}
safetensors("plain.safetensors") { path in
    let values: [Float] = [1, -2, 3.5, 0]
    try values.withUnsafeBufferPointer { v in
        try SafeTensors.write(to: path, metadata: [("k", "v")], tensors: [(name: "a", shape: [2, 2], values: v),
                                                                      (name: "b", shape: [0, 3], values: UnsafeBufferPointer(rebasing: v[0..<0]))])
    }
}

// MARK: audio

let seconds = 0.05
for (format, rate, channels) in [(SoundFile.Format.wav16, 16000, 1), (.wavFloat, 8000, 2), (.flac, 22050, 1),
                                 (.ogg, 44100, 2), (.opus, 48000, 1), (.mp3, 22050, 1)] {
    let n = Int(Double(rate) * seconds)
    let samples = (0..<(n * channels)).map { Float(sin(Double($0) * 0.07)) * 0.5 }
    do {
        let bytes = try SoundFile.encode(samples, channels: channels, sampleRate: rate, format: format)
        let ext = ["wav": "wav", "wav-float": "float.wav", "flac": "flac", "ogg": "ogg", "opus": "opus", "mp3": "mp3"][format.rawValue]!
        put("fuzz-audio", "gen-\(rate)-\(channels)ch.\(ext)", bytes)
    } catch {
        FileHandle.standardError.write(Data("fuzz-seeds: \(format.rawValue): \(error)\n".utf8))
    }
}
print("fuzz-seeds: wrote \(root)")

/// Built with the fuzz targets' flags, this program links libFuzzer's runtime
/// too, which needs the callback (never called: `main` above is the entry point).
@_cdecl("LLVMFuzzerTestOneInput")
public func unused(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { 0 }
