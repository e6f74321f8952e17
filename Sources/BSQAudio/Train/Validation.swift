import Foundation

/// A held-out set, analysed once, and its evaluation with given weights:
/// each utterance encoded and decoded whole (chunks padded with db_min, as
/// `bsq-encode` does), then mel L1 in dB and LSD against the input, and the
/// usage and entropy of the codes.
public struct ValidationSet: Sendable {
    public struct Utterance: Sendable {
        public let values: [Float]
        public let frames: Int
    }
    public let utterances: [Utterance]

    public init(_ data: TrainingData, threads: Int) throws {
        var out: [Utterance?] = Array(repeating: nil, count: data.examples.count)
        var failure: Error?
        let lock = NSLockLite()
        Parallel.forEach(data.examples.count, threads: threads) { i, _ in
            do {
                let m = try data.mel(data.examples[i])
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

    /// Runs the model with `weights` over every utterance, `batch` chunks at a time.
    public func evaluate(config c: ModelConfig, weights: [Float], threads: Int, batch: Int = 8) -> Report {
        let model = BSQModel(Checkpoint(config: c, weights: weights), threads: threads)
        var report = Report(codes: CodeStatistics(bits: c.embed_dim))
        let n = c.frames * c.n_mels
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
            report.spec.add(ref: u.values, hyp: Array(rec[0..<(u.frames * c.n_mels)]), frames: u.frames, nMels: c.n_mels)
            report.codes.add(tokens: tokens, seconds: Double(u.frames) * c.frameSeconds)
        }
        return report
    }
}
