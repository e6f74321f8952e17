import Dispatch

/// `bsq-encode` and `bsq-decode` over frame streams: mel of any length cut
/// into chunks of `frames` rows (the last padded with db_min), chunks of
/// consecutive utterances batched through one forward pass, codes and
/// reconstructions written per utterance in input order (MODEL.md, "Any length").
public final class Codec {
    public let model: BSQModel
    public let batch: Int
    public var force = false
    /// The model is the kit's default (recorded in the codes' metadata).
    public var isDefaultModel = false
    private var config: ModelConfig { model.config }
    /// Chunks run and seconds spent in the model (for --timing).
    public private(set) var chunksRun = 0
    public private(set) var modelSeconds = 0.0

    public init(_ checkpoint: Checkpoint, batch: Int, threads: Int) {
        model = BSQModel(checkpoint, threads: threads)
        self.batch = max(1, batch)
    }

    /// An utterance in flight: its metadata, length and the chunks still to fill.
    private final class Pending {
        let meta: JSONObject
        let frames: Int
        let chunks: Int
        var data: [Float]          // mel chunks (encode) or reconstruction (decode)
        var tokens: [UInt64]
        var done = 0
        init(meta: JSONObject, frames: Int, chunks: Int, data: [Float], tokens: [UInt64]) {
            self.meta = meta; self.frames = frames; self.chunks = chunks; self.data = data; self.tokens = tokens
        }
    }

    /// Chunks waiting for a forward pass, and utterances waiting to be written in order.
    private struct Batcher {
        let batch: Int
        var queue: [(Pending, Int)] = []
        var pending: [Pending] = []

        mutating func add(_ p: Pending) {
            pending.append(p)
            for i in 0..<p.chunks { queue.append((p, i)) }
        }

        /// Runs full batches (and, with `all`, the rest) through `run`, then
        /// hands every finished utterance at the head to `emit`.
        mutating func drain(all: Bool, run: ([(Pending, Int)]) -> Void, emit: (Pending) throws -> Void) throws {
            while queue.count >= batch || (all && !queue.isEmpty) {
                let take = Array(queue.prefix(batch))
                queue.removeFirst(take.count)
                run(take)
                for (p, _) in take { p.done += 1 }
                while let first = pending.first, first.done == first.chunks {
                    pending.removeFirst()
                    try emit(first)
                }
            }
        }
    }

    private func timed(_ chunks: Int, _ body: () -> Void) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        modelSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        chunksRun += chunks
    }

    /// Mel frames in, codes frames out.
    public func encode(_ inputs: FrameInputs, to out: FrameWriter, warn: (String) -> Void) throws {
        let c = config
        var batcher = Batcher(batch: batch)
        var warned = false
        let n = c.frames * c.n_mels
        func flush(all: Bool) throws {
            try batcher.drain(all: all, run: { take in
                var mel = [Float](repeating: 0, count: take.count * n)
                for (b, (p, i)) in take.enumerated() { mel.replaceSubrange((b * n)..<((b + 1) * n), with: p.data[(i * n)..<((i + 1) * n)]) }
                var tokens = [UInt64](repeating: 0, count: take.count * c.tokens)
                timed(take.count) {
                    mel.withUnsafeBufferPointer { m in tokens.withUnsafeMutableBufferPointer { model.encode(mel: m.baseAddress!, batch: take.count, tokens: $0.baseAddress!) } }
                }
                for (b, (p, i)) in take.enumerated() {
                    p.tokens.replaceSubrange((i * c.tokens)..<((i + 1) * c.tokens), with: tokens[(b * c.tokens)..<((b + 1) * c.tokens)])
                }
            }, emit: { try out.write(codesFrame($0)) })
        }
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
            if !warned, let m = frame.meta["mel"] {
                let sr = m["sample_rate"]?.int, hop = m["hop_length"]?.int
                if (sr != nil && sr != 16000) || (hop != nil && hop != 160) {
                    warn("\(label): mel at \(sr ?? 0) Hz with hop \(hop ?? 0); the model was made for 16000 Hz with hop 160")
                    warned = true
                }
            }
            let chunks = (t + c.frames - 1) / c.frames
            var data = [Float](repeating: Float(c.db_min), count: chunks * c.frames * c.n_mels)
            data.withUnsafeMutableBytes { d in frame.payload.withUnsafeBytes { d.copyMemory(from: $0) } }
            batcher.add(Pending(meta: frame.meta, frames: t, chunks: chunks, data: data, tokens: [UInt64](repeating: 0, count: chunks * c.tokens)))
            try flush(all: false)
        }
        try flush(all: true)
    }

    private func codesFrame(_ p: Pending) -> Frame {
        let c = config, ck = model.checkpoint
        var meta = JSONObject()
        meta["kind"] = "codes"
        for (k, v) in p.meta.pairs where !["kind", "axes", "frames", "bits", "model", "crop"].contains(k) { meta[k] = v }
        meta["axes"] = ["time_patch", "freq_patch"]
        meta["frames"] = JSONValue(p.frames)
        meta["bits"] = JSONValue(c.embed_dim)
        var model = JSONObject(["name": .string(ck.name), "sha256": .string(ck.sha256)])
        if isDefaultModel { model["default"] = true }
        meta["model"] = .object(model)
        let dims = [p.chunks * c.nt, c.nf]
        if c.embed_dim > 32 { return Frame(p.tokens, dims: dims, meta: meta) }
        return Frame(p.tokens.map { UInt32(truncatingIfNeeded: $0) }, dims: dims, meta: meta)
    }

    /// Codes frames in, mel frames (dB) out, cropped to the encoded length.
    public func decode(_ inputs: FrameInputs, to out: FrameWriter) throws {
        let c = config
        var batcher = Batcher(batch: batch)
        let n = c.frames * c.n_mels
        func flush(all: Bool) throws {
            try batcher.drain(all: all, run: { take in
                var tokens = [UInt64](repeating: 0, count: take.count * c.tokens)
                for (b, (p, i)) in take.enumerated() {
                    tokens.replaceSubrange((b * c.tokens)..<((b + 1) * c.tokens), with: p.tokens[(i * c.tokens)..<((i + 1) * c.tokens)])
                }
                var mel = [Float](repeating: 0, count: take.count * n)
                timed(take.count) {
                    tokens.withUnsafeBufferPointer { t in mel.withUnsafeMutableBufferPointer { model.decode(tokens: t.baseAddress!, batch: take.count, mel: $0.baseAddress!) } }
                }
                for (b, (p, i)) in take.enumerated() { p.data.replaceSubrange((i * n)..<((i + 1) * n), with: mel[(b * n)..<((b + 1) * n)]) }
            }, emit: { try out.write(melFrame($0)) })
        }
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
            guard frame.dims[1] == c.nf, frame.dims[0] > 0, frame.dims[0] % c.nt == 0 else {
                throw BSQError("\(label): codes of shape \(frame.dims) do not fit the model's [k·\(c.nt), \(c.nf)] grid")
            }
            let chunks = frame.dims[0] / c.nt
            let t = frame.meta["frames"]?.int ?? chunks * c.frames
            guard t > (chunks - 1) * c.frames, t <= chunks * c.frames else {
                throw BSQError("\(label): 'frames' \(t) does not fit \(chunks) chunks of \(c.frames)")
            }
            let tokens: [UInt64]
            do { tokens = try CodesFrame.tokens(of: frame, bits: c.embed_dim) } catch let e as BSQError { throw BSQError("\(label): \(e.message)") }
            batcher.add(Pending(meta: frame.meta, frames: t, chunks: chunks,
                                data: [Float](repeating: 0, count: chunks * n), tokens: tokens))
            try flush(all: false)
        }
        try flush(all: true)
    }

    private func melFrame(_ p: Pending) -> Frame {
        let c = config
        var meta = JSONObject()
        meta["kind"] = "mel"
        for (k, v) in p.meta.pairs where !["kind", "axes", "frames", "bits", "model"].contains(k) { meta[k] = v }
        meta["axes"] = ["time", "mel"]
        return Frame(Array(p.data[0..<(p.frames * c.n_mels)]), dims: [p.frames, c.n_mels], meta: meta)
    }
}
