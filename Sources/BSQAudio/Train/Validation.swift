import Foundation

/// A held-out set, analysed once, and its evaluation with given weights:
/// each utterance encoded and decoded whole (chunks padded with db_min, as
/// `bsq-encode` does), then mel L1 in dB and LSD against the input, and the
/// usage and entropy of the codes. In data-parallel training each process
/// holds a part of the utterances and the evaluation gathers the results.
public struct ValidationSet: Sendable {
    public struct Utterance: Sendable {
        public let values: [Float]
        public let frames: Int
    }
    public let utterances: [Utterance]

    /// The utterances of `data`, or of its examples in `part`.
    public init(_ data: TrainingData, threads: Int, part: Range<Int>? = nil) throws {
        let indices = part ?? 0..<data.examples.count
        var out: [Utterance?] = Array(repeating: nil, count: indices.count)
        var failure: Error?
        let lock = NSLockLite()
        Parallel.forEach(indices.count, threads: threads) { i, _ in
            do {
                let m = try data.mel(data.examples[indices.lowerBound + i])
                lock.sync { out[i] = Utterance(values: m.values, frames: m.frames) }
            } catch {
                lock.sync { failure = error }
            }
        }
        if let failure { throw failure }
        utterances = out.map { $0! }
    }

    public struct Report: Sendable {
        public var spec = SpecMetrics()
        public var codes: CodeStatistics
    }

    /// One utterance's figures: its distance sums, its tokens and its seconds.
    struct Result {
        var spec = SpecMetrics(), tokens: [UInt64] = [], seconds = 0.0

        var bytes: [UInt8] {
            let head = spec.sums + [seconds, Double(tokens.count)]
            return head.withUnsafeBytes { Array($0) } + tokens.withUnsafeBytes { Array($0) }
        }

        /// The results packed by `bytes`, one after the other.
        static func unpack(_ b: [UInt8]) -> [Result] {
            var out: [Result] = [], at = 0
            b.withUnsafeBytes { raw in
                while at < raw.count {
                    let head = (0..<9).map { raw.loadUnaligned(fromByteOffset: at + 8 * $0, as: Double.self) }
                    let n = Int(head[8])
                    at += 72
                    let tokens = (0..<n).map { raw.loadUnaligned(fromByteOffset: at + 8 * $0, as: UInt64.self) }
                    at += 8 * n
                    out.append(Result(spec: SpecMetrics(sums: Array(head[0..<7])), tokens: tokens, seconds: head[7]))
                }
            }
            return out
        }
    }

    /// Runs the model with `weights` over every utterance, `batch` chunks at a
    /// time; with `across`, over the utterances of all its processes (pooled in order).
    public func evaluate(config c: ModelConfig, weights: [Float], threads: Int, batch: Int = 8, across: Collective? = nil) -> Report {
        let model = BSQModel(Checkpoint(config: c, weights: weights), threads: threads)
        let n = c.frames * c.n_mels
        var results: [Result] = []
        for u in utterances {
            let chunks = c.chunks(frames: u.frames)
            let mel = u.values.withUnsafeBytes { c.padToChunks($0, frames: u.frames) }
            var tokens = [UInt64](repeating: 0, count: chunks * c.tokens)
            var rec = [Float](repeating: 0, count: chunks * n)
            var b0 = 0
            while b0 < chunks {
                let b = min(batch, chunks - b0)
                mel.withUnsafeBufferPointer { m in
                    tokens.withUnsafeMutableBufferPointer { t in
                        rec.withUnsafeMutableBufferPointer { r in
                            model.encode(mel: m.baseAddress! + b0 * n, batch: b, tokens: t.baseAddress! + b0 * c.tokens)
                            model.decode(tokens: t.baseAddress! + b0 * c.tokens, batch: b, mel: r.baseAddress! + b0 * n)
                        }
                    }
                }
                b0 += b
            }
            var r = Result(tokens: tokens, seconds: Double(u.frames) * c.frameSeconds)
            r.spec.add(ref: u.values, hyp: Array(rec[0..<(u.frames * c.n_mels)]), frames: u.frames, nMels: c.n_mels)
            results.append(r)
        }
        if let across, across.size > 1 {
            results = across.gather(results.flatMap(\.bytes)).flatMap(Result.unpack)
        }
        var report = Report(codes: CodeStatistics(bits: c.embed_dim))
        for r in results {
            report.spec.merge(r.spec)
            report.codes.add(tokens: r.tokens, seconds: r.seconds)
        }
        return report
    }
}
