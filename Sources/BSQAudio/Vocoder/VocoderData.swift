import Foundation

/// What `bsq-train vocoder` learns from: audio files, each loaded at the
/// vocoder's rate and analysed with `mel`'s defaults (or, with a codec, the
/// mel that the tokenizer gives back from its codes: `bsq-decode(bsq-encode(mel))`).
///
/// The waveform is scaled so that its loudest mel bin has power 1: with dB
/// relative to the loudest bin (`ref = max`), the frames then say the level
/// the vocoder must produce. Sample i of the run comes from the example the
/// run's `EpochOrder` gives, at a frame offset drawn from (seed, i): `segment`
/// mel rows from that offset f₀ and the (segment − 1)·hop samples from f₀·hop
/// (mel frame t is centred on sample t·hop). Short examples are padded with
/// db_min and silence. Loaded examples stay in memory.
public final class VocoderData: @unchecked Sendable {
    public let examples: [AudioInput]
    public let config: VocoderConfig
    public let segment: Int
    public let seed: UInt64
    let spectrogram: MelSpectrogram
    let codec: BSQModel?
    private let order: EpochOrder
    private var loaded: [Int: (audio: [Float], mel: [Float], frames: Int)] = [:]
    private let lock = NSLockLite()

    public init(examples: [AudioInput], config: VocoderConfig, segment: Int, seed: UInt64, codec: Checkpoint? = nil) throws {
        if examples.isEmpty { throw BSQError("no training data") }
        if let c = codec?.config {
            guard c.n_mels == config.n_mels, c.sampleRate == config.sample_rate, c.hopLength == config.hop_length else {
                throw BSQError("--codec: the tokenizer takes \(c.n_mels) mels at \(c.sampleRate) Hz, hop \(c.hopLength); the vocoder \(config.n_mels) at \(config.sample_rate) Hz, hop \(config.hop_length)")
            }
        }
        self.examples = examples
        self.config = config
        self.segment = segment
        self.seed = seed
        spectrogram = MelSpectrogram(config.analysis)
        self.codec = codec.map { BSQModel($0, threads: 1) }
        order = EpochOrder(count: examples.count, seed: seed)
    }

    public var samples: Int { (segment - 1) * config.hop_length }

    /// Example `e`: its scaled waveform and its mel (dB; the codec's when there is one).
    func example(_ e: Int) throws -> (audio: [Float], mel: [Float], frames: Int) {
        if let hit = lock.sync({ loaded[e] }) { return hit }
        var y = try AudioLoader.loadMono(.path(examples[e].path), sampleRate: config.sample_rate)
        var power = try spectrogram.melPower(y)
        let peak = power.values.max() ?? 0
        _ = spectrogram.toDecibels(&power.values)
        if peak > 0 {
            let g = 1 / peak.squareRoot()
            for i in y.indices { y[i] *= g }
        }
        var mel = power.values
        if let codec { mel = lock.sync { codec.reconstruct(mel: mel, frames: power.frames) } }
        let out = (y, mel, power.frames)
        lock.sync { loaded[e] = out }
        return out
    }

    /// `segment` mel rows of example `e` from frame `f0`, and the samples they stand for.
    func crop(_ e: Int, from f0: Int, mel: UnsafeMutablePointer<Float>, audio: UnsafeMutablePointer<Float>) throws {
        let x = try example(e), m = config.n_mels, hop = config.hop_length
        mel.update(repeating: Float(config.db_min), count: segment * m)
        let rows = max(0, min(segment, x.frames - f0))
        for k in 0..<(rows * m) { mel[k] = x.mel[f0 * m + k] }
        audio.update(repeating: 0, count: samples)
        let s0 = f0 * hop, n = max(0, min(samples, x.audio.count - s0))
        for k in 0..<n { audio[k] = x.audio[s0 + k] }
    }

    /// Sample `i` of the run.
    public func sample(_ i: Int, mel: UnsafeMutablePointer<Float>, audio: UnsafeMutablePointer<Float>) throws {
        let e = order.example(sample: i), frames = try example(e).frames
        var rng = SplitMix64(seed: seed ^ (0xD1B5_4A32_D192_ED03 &* UInt64(i + 1)))
        let f0 = frames > segment ? Int(rng.next() % UInt64(frames - segment + 1)) : 0
        try crop(e, from: f0, mel: mel, audio: audio)
    }

    /// The batch of `step`: [size, segment, n_mels] mel rows, then [size, samples]
    /// target samples; nil when `cancelled` turns true between two samples.
    public func batch(step: Int, size: Int, cancelled: () -> Bool = { false }) throws -> [Float]? {
        let nm = segment * config.n_mels
        var out = [Float](repeating: 0, count: size * (nm + samples))
        for j in 0..<size {
            if cancelled() { return nil }
            try out.withUnsafeMutableBufferPointer { o in
                try sample(step * size + j, mel: o.baseAddress! + j * nm, audio: o.baseAddress! + size * nm + j * samples)
            }
        }
        return out
    }

    /// The held-out crops: the first `segment` frames of every example, in batches of at most `size`.
    public func fixedBatches(size: Int) throws -> [(mel: [Float], audio: [Float], count: Int)] {
        let nm = segment * config.n_mels
        return try stride(from: 0, to: examples.count, by: size).map { first in
            let count = min(size, examples.count - first)
            var mel = [Float](repeating: 0, count: count * nm), audio = [Float](repeating: 0, count: count * samples)
            for j in 0..<count {
                try mel.withUnsafeMutableBufferPointer { m in
                    try audio.withUnsafeMutableBufferPointer { a in
                        try crop(first + j, from: 0, mel: m.baseAddress! + j * nm, audio: a.baseAddress! + j * samples)
                    }
                }
            }
            return (mel, audio, count)
        }
    }
}

extension BSQModel {
    /// The mel the tokenizer gives back for `frames` dB rows: every chunk
    /// (the last padded with db_min) encoded and decoded, cut to `frames` rows.
    public func reconstruct(mel: [Float], frames: Int) -> [Float] {
        let c = config
        let padded = mel.withUnsafeBytes { c.padToChunks($0, frames: frames) }
        let chunks = c.chunks(frames: frames)
        var tokens = [UInt64](repeating: 0, count: chunks * c.tokens)
        var out = [Float](repeating: 0, count: chunks * c.frames * c.n_mels)
        tokens.withUnsafeMutableBufferPointer { t in padded.withUnsafeBufferPointer { encode(mel: $0.baseAddress!, batch: chunks, tokens: t.baseAddress!) } }
        tokens.withUnsafeBufferPointer { t in out.withUnsafeMutableBufferPointer { decode(tokens: t.baseAddress!, batch: chunks, mel: $0.baseAddress!) } }
        return Array(out[0..<(frames * c.n_mels)])
    }
}
