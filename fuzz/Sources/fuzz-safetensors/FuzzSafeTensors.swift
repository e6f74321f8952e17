import BSQAudio
import FuzzSupport

/// safetensors files through `SafeTensors(path:)` (header length, JSON header,
/// dtypes, shapes, data offsets), every tensor read as floats, then as a
/// checkpoint: `Checkpoint(path:)` (the `config` metadata, every key and shape
/// checked), `VocoderCheckpoint(path:)` and the training states of
/// `bsq-train --resume` (`TrainingState`, `VocoderState`), as the tools load them.
let file = MemFile(name: "bsq-fuzz-safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    file.set(UnsafeRawBufferPointer(start: data, count: size))
    guard let st = try? SafeTensors(path: file.path) else { return 0 }
    for e in st.entries where e.count <= 1 << 22 {
        var out = [Float](repeating: 0, count: max(e.count, 1))
        _ = try? out.withUnsafeMutableBufferPointer { try st.floats(e, into: $0.baseAddress!) }
        _ = st.entry(e.name)
    }
    // Each loader opens the file again; skipped (as they would refuse at once)
    // when the metadata lacks what they look for first.
    let m = st.metadata
    if m["config"] != nil, let c = try? Checkpoint(path: file.path) {
        c.withWeights { _ = $0 }
        _ = c.weights.count
    }
    if m["vocoder"] != nil, let v = try? VocoderCheckpoint(path: file.path) { _ = v.weights.count }
    if m["run"] != nil, m["step"] != nil, m["optimizer_step"] != nil {
        if let t = try? TrainingState(resume: file.path) { _ = t.step }
        if m["vocoder"] != nil, let t = try? VocoderState(resume: file.path) { _ = t.step }
    }
    return 0
}
