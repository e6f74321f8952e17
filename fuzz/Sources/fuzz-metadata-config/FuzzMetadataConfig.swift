import BSQAudio
import FuzzSupport

/// JSON text as the kit reads it: frame metadata (`JSONValue.parse`, the
/// `mel` analysis, mel and codes frames built around it, written and read
/// back) and the configurations stored in checkpoints or given as
/// `--config FILE` / `--set section.field=value`: `ModelConfig`,
/// `VocoderConfig`, `RunConfig` and `VocoderRunConfig` (`decode(json:)` and
/// `resolve(preset:file:overrides:)`), then the layout of a model that
/// passed. Input: the JSON text, optionally followed by a NUL byte and
/// `--set` overrides, one per line.
let file = MemFile(name: "bsq-fuzz-config")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let all = bytes(data, size)
    let cut = all.firstIndex(of: 0) ?? all.count
    let json = Array(all[..<cut])
    let overrides = cut < all.count
        ? String(decoding: all[(cut + 1)...], as: UTF8.self).split(separator: "\n").map(String.init) : []
    let text = String(decoding: json, as: UTF8.self)

    // frame metadata
    if let v = try? JSONValue.parse(json) {
        let again = try? JSONValue.parse(v.serialized())
        roundTrip(again == v, "JSON \(v.serialized()) does not parse back to itself")
        if let m = v["mel"] { _ = try? MelAnalysis(metadata: m) }
        _ = try? MelAnalysis(metadata: v)
        if case .object(let meta) = v {
            var mel = meta
            mel["kind"] = "mel"
            exercise(Frame([Float](repeating: -20, count: 8), dims: [2, 4], meta: mel), stored: nil, index: 0)
            var codes = meta
            codes["kind"] = "codes"
            exercise(Frame([UInt32](repeating: 3, count: 4), dims: [2, 2], meta: codes), stored: nil, index: 1)
            exercise(Frame([UInt64](repeating: 1 << 40, count: 2), dims: [1, 2], meta: codes), stored: nil, index: 2)
            _ = MelFrame.metadata(key: "k", passing: meta)
            _ = CodesFrame.metadata(bits: 18, frames: 3, covered: 1, model: .init(name: "m", sha256: "0"), passing: meta)
        }
    }

    // configurations
    if let c = try? ModelConfig.decode(json: text) {
        let layout = ParameterLayout(c)
        _ = layout.count
        _ = (c.encodeFlops, c.decodeFlops, c.chunkSeconds, c.json)
    }
    if let v = try? VocoderConfig.decode(json: text) { _ = (v.json, v.analysis, v.nFFT, v.bins) }
    if let r = try? RunConfig.decode(json: text) { _ = (r.json, ParameterLayout(r.model).count) }
    if let r = try? VocoderRunConfig.decode(json: text) { _ = r.json }
    file.set(json)
    if let r = try? RunConfig.resolve(preset: "tiny", file: file.path, overrides: overrides) {
        _ = (r.json, ParameterLayout(r.model).count)
    }
    _ = try? VocoderRunConfig.resolve(preset: "tiny", file: file.path, overrides: overrides)
    return 0
}
