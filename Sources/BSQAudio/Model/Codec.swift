import Foundation
import Dispatch

/// `bsq-encode` and `bsq-decode` over frame streams: mel of any length cut
/// into chunks of `frames` rows (the last padded with db_min), chunks of
/// consecutive utterances batched through one forward pass
/// (`OrderedParallel.batches`), codes and reconstructions written per
/// utterance in input order (docs/model.md, "Any length").
public final class Codec {
    public let model: BSQModel
    public let batch: Int
    public var force = false
    /// Write only the covered time patches of each utterance (`bsq-encode --trim`).
    public var trim = false
    /// The model is the kit's default (recorded in the codes' metadata).
    public var isDefaultModel = false
    /// Shown the frames done and their audio's speed, when given.
    public var progress: ProgressDisplay?
    private var framesDone = 0, secondsDone = 0.0
    private let started = Date()

    /// Counts a finished utterance of `frames` mel rows, and shows it on `progress`.
    private func done(frames: Int) {
        framesDone += 1
        secondsDone += Double(frames * config.hopLength) / Double(config.sampleRate)
        guard let progress else { return }
        progress.update(framesDone, note: String(format: "%.1f s of audio, %.1fx realtime", secondsDone,
                                                  secondsDone / max(Date().timeIntervalSince(started), 1e-9)))
    }
    private var config: ModelConfig { model.config }
    /// Chunks run, seconds spent in the model and seconds of audio (the
    /// utterances' mel frames, not the padding of their last chunks) done, for --timing.
    public private(set) var chunksRun = 0
    public private(set) var modelSeconds = 0.0
    public var audioSeconds: Double { secondsDone }

    public init(_ checkpoint: Checkpoint, batch: Int, threads: Int) {
        model = BSQModel(checkpoint, threads: threads)
        self.batch = max(1, batch)
    }

    /// An utterance in flight: its metadata, its length in mel frames, its
    /// chunks' inputs side by side, and the outputs of the chunks done so far.
    private final class Utterance<Input, Output> {
        let meta: JSONObject
        let frames: Int
        let chunks: Int
        let input: [Input]
        var output: [Output] = []
        init(meta: JSONObject, frames: Int, chunks: Int, input: [Input]) {
            self.meta = meta; self.frames = frames; self.chunks = chunks; self.input = input
        }
    }

    /// Runs the utterances that `feed` adds through the model chunk by chunk:
    /// `batch` consecutive chunks (of one utterance or several) per call of
    /// `forward(inputs, chunks, outputs)`, `inSize` values in and `outSize` out
    /// per chunk; each utterance goes to `emit` when its last chunk is done,
    /// in input order.
    private func run<Input, Output>(inSize: Int, outSize: Int, zero: Output,
                                    feed: (_ add: (Utterance<Input, Output>) throws -> Void) throws -> Void,
                                    forward: (UnsafePointer<Input>, Int, UnsafeMutablePointer<Output>) -> Void,
                                    emit: (Utterance<Input, Output>) throws -> Void) throws {
        try OrderedParallel.batches(of: batch, feed: { submit in
            try withoutActuallyEscaping(submit) { submit in   // called from inside `feed`
                try feed { u in for i in 0..<u.chunks { try submit((u, i)) } }
            }
        }, work: { chunks in
            var input: [Input] = []
            input.reserveCapacity(chunks.count * inSize)
            for (u, i) in chunks { input += u.input[(i * inSize)..<((i + 1) * inSize)] }
            var output = [Output](repeating: zero, count: chunks.count * outSize)
            let t0 = DispatchTime.now().uptimeNanoseconds
            input.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer { forward(x.baseAddress!, chunks.count, $0.baseAddress!) } }
            modelSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            chunksRun += chunks.count
            return chunks.indices.map { b in Array(output[(b * outSize)..<((b + 1) * outSize)]) }
        }, consume: { chunk, output in
            let (u, i) = chunk
            u.output += output
            if i == u.chunks - 1 { try emit(u) }
        })
    }

    /// Mel frames in, codes frames out.
    public func encode(_ inputs: FrameInputs, to out: FrameWriter, diagnostics: Diagnostics = .silent) throws {
        let c = config
        var warned = false
        try run(inSize: c.frames * c.n_mels, outSize: c.tokens, zero: UInt64(0), feed: { add in
            try inputs.forEach { frame, index in
                let label = frame.label(index: index)
                guard frame.kind == "mel" || frame.kind == nil, frame.dtype == .f32, frame.dims.count == 2 else {
                    throw BSQError("\(label): expected a mel frame (f32 [frames, n_mels]), got \(frame.kind ?? "untyped") \(frame.dtype.name) \(frame.dims)")
                }
                let t = frame.dims[0]
                guard frame.dims[1] == c.n_mels else {
                    throw BSQError("\(label): \(frame.dims[1]) mel bands, the model takes \(c.n_mels)")
                }
                guard t > 0 else { throw BSQError("\(label): no mel frames") }
                do { try frame.payload.withUnsafeBytes { try MelFrame.checkFinite($0, bands: c.n_mels) } } catch let e as BSQError {
                    throw BSQError("\(label): \(e.message)")
                }
                if !warned, let m = frame.meta["mel"] {
                    let sr = m["sample_rate"]?.int, hop = m["hop_length"]?.int
                    if (sr != nil && sr != c.sampleRate) || (hop != nil && hop != c.hopLength) {
                        diagnostics.warning("\(label): mel at \(sr ?? 0) Hz with hop \(hop ?? 0); the model was made for \(c.sampleRate) Hz with hop \(c.hopLength)")
                        warned = true
                    }
                }
                try add(Utterance(meta: frame.meta, frames: t, chunks: c.chunks(frames: t),
                                  input: frame.payload.withUnsafeBytes { c.padToChunks($0, frames: t) }))
            }
        }, forward: { model.encode(mel: $0, batch: $1, tokens: $2) }, emit: { try out.write(codesFrame($0)); self.done(frames: $0.frames) })
    }

    private func codesFrame(_ p: Utterance<Float, UInt64>) -> Frame {
        let c = config, ck = model.checkpoint
        let covered = c.coveredTimePatches(frames: p.frames), rows = trim ? covered : p.chunks * c.nt
        return CodesFrame(tokens: Array(p.output[0..<(rows * c.nf)]), timePatches: rows, freqPatches: c.nf, bits: c.embed_dim,
                          frames: p.frames, covered: covered,
                          model: CodesFrame.Model(name: ck.name, sha256: ck.sha256, isDefault: isDefaultModel), passing: p.meta).frame
    }

    /// The tokens of a chunk of silence (every mel value db_min), [nt, nf]:
    /// what `decode` completes trimmed codes with, time patch by time patch.
    private lazy var silence: [UInt64] = {
        let c = config
        var tokens = [UInt64](repeating: 0, count: c.tokens)
        let mel = [Float](repeating: Float(c.db_min), count: c.frames * c.n_mels)
        mel.withUnsafeBufferPointer { m in tokens.withUnsafeMutableBufferPointer { model.encode(mel: m.baseAddress!, batch: 1, tokens: $0.baseAddress!) } }
        return tokens
    }()

    /// Codes frames in, mel frames (dB) out, cropped to the encoded length.
    public func decode(_ inputs: FrameInputs, to out: FrameWriter) throws {
        let c = config
        try run(inSize: c.tokens, outSize: c.frames * c.n_mels, zero: Float(0), feed: { add in
            try inputs.forEach { frame, index in
                let label = frame.label(index: index)
                guard frame.kind == "codes", frame.dims.count == 2, frame.dtype == .u32 || frame.dtype == .u64 else {
                    throw BSQError("\(label): expected a codes frame (u32 or u64 [time_patches, freq_patches]), got \(frame.kind ?? "untyped") \(frame.dtype.name) \(frame.dims)")
                }
                if let bits = frame.meta["bits"]?.int, bits != c.embed_dim {
                    throw BSQError("\(label): codes of \(bits) bits, the model makes \(c.embed_dim)")
                }
                if !force, let sha = frame.meta["model"]?["sha256"]?.string, sha != model.checkpoint.sha256 {
                    let name = frame.meta["model"]?["name"]?.string ?? "another model"
                    throw BSQError("\(label): codes were made by \(name) (sha256 \(sha.prefix(12))…), not this model; --force decodes anyway")
                }
                guard frame.dims[1] == c.nf, frame.dims[0] > 0 else {
                    throw BSQError("\(label): codes of shape \(frame.dims) do not fit the model's [time_patches, \(c.nf)] grid")
                }
                let rows = frame.dims[0], chunks = (rows + c.nt - 1) / c.nt
                let t = frame.meta["frames"]?.int ?? rows * c.patch_time
                guard t > 0, c.chunks(frames: t) == chunks, c.coveredTimePatches(frames: t) <= rows else {
                    throw BSQError("\(label): 'frames' \(t) does not fit \(rows) time patches of \(c.patch_time) frames in chunks of \(c.frames)")
                }
                var tokens: [UInt64]
                do { tokens = try CodesFrame.tokens(of: frame, bits: c.embed_dim) } catch let e as BSQError { throw BSQError("\(label): \(e.message)") }
                // trimmed codes (bsq-encode --trim): the last chunk completed with the tokens of silence
                for r in rows..<(chunks * c.nt) { tokens += silence[((r % c.nt) * c.nf)..<((r % c.nt + 1) * c.nf)] }
                try add(Utterance(meta: frame.meta, frames: t, chunks: chunks, input: tokens))
            }
        }, forward: { model.decode(tokens: $0, batch: $1, mel: $2) }, emit: { try out.write(melFrame($0)); self.done(frames: $0.frames) })
    }

    private func melFrame(_ p: Utterance<UInt64, Float>) -> Frame {
        let c = config
        let ck = model.checkpoint
        return MelFrame(values: Array(p.output[0..<(p.frames * c.n_mels)]), frames: p.frames, nMels: c.n_mels,
                        decodedBy: CodesFrame.Model(name: ck.name, sha256: ck.sha256, isDefault: isDefaultModel), passing: p.meta).frame
    }
}
