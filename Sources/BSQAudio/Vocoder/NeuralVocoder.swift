import Foundation

/// A trained vocoder ready to run (`mel2wav --vocoder`): mel frames in dB
/// to audio through `VocosNetwork`, with the analysis of the frames checked
/// against the one the vocoder was trained on. Safe to share between
/// threads: each call takes its own buffers (kept for the next call).
public final class NeuralVocoder: @unchecked Sendable {
    public let checkpoint: VocoderCheckpoint
    public let network: VocosNetwork
    /// Arenas of finished calls, reused so that a batch of files does not
    /// fault in fresh pages for each (one per concurrent call at most).
    private var idle: [Arena] = []
    private let lock = NSLockLite()
    /// The file name of the vocoder shipped beside the default tokenizer.
    public static let defaultFileName = "bsq-audio-vocos-tiny.safetensors"

    public init(_ checkpoint: VocoderCheckpoint) {
        self.checkpoint = checkpoint
        network = VocosNetwork(checkpoint.config)
    }

    public convenience init(path: String) throws { self.init(try VocoderCheckpoint(path: path)) }

    public var config: VocoderConfig { checkpoint.config }

    /// Whether frames of `analysis` are what the vocoder takes: its rate, hop
    /// and mel bands, dB relative to the loudest bin (what it was trained on),
    /// and `mel`'s defaults for the rest (amin and top_db aside: values below
    /// db_min are clamped, as in training).
    public func check(_ analysis: MelAnalysis) throws {
        guard analysis.ref == .max else {
            throw BSQError("the vocoder takes dB relative to each file's loudest bin (mel's default --ref max), not a fixed reference: use --vocoder griffin-lim")
        }
        var a = analysis, want = config.analysis
        a.amin = want.amin; a.ref = want.ref; a.topDB = want.topDB
        // unset win_length and fmax stand for n_fft and sample_rate / 2
        a.winLength = a.resolvedWinLength; a.fmax = a.resolvedFmax
        want.winLength = want.resolvedWinLength; want.fmax = want.resolvedFmax
        guard a == want else {
            throw BSQError("the frames' mel analysis is not the one the vocoder \(checkpoint.name) takes (\(config.sample_rate) Hz, hop \(config.hop_length), \(config.n_mels) mels, mel's defaults otherwise): use --vocoder griffin-lim")
        }
    }

    /// The waveform of `frames` × n_mels dB values: (frames − 1)·hop samples,
    /// librosa's length for centred frames, levels as `MelVocoder.level` sets them.
    public func synthesize(decibels: [Float], frames: Int, analysis: MelAnalysis, peak: Double?, threads: Int = 1) throws -> MelVocoder.Output {
        try check(analysis)
        guard frames >= 2 else {
            throw BSQError("\(frames) mel frame\(frames == 1 ? "" : "s") make no audio (at least 2 are needed)")
        }
        precondition(decibels.count == frames * config.n_mels)
        var y = [Float](repeating: 0, count: frames * config.hop_length)
        let arena = lock.sync { idle.popLast() } ?? Arena()
        defer { arena.reset(); lock.sync { idle.append(arena) } }
        checkpoint.weights.withUnsafeBufferPointer { w in
            decibels.withUnsafeBufferPointer { m in
                network.synthesize(Weights(w.baseAddress!, network.layout), mel: m.baseAddress!, frames: frames, into: &y,
                                   arena: arena, threads: threads)
            }
        }
        y.removeLast(config.hop_length)
        let gain = MelVocoder.level(&y, analysis: analysis, peak: peak)
        return MelVocoder.Output(samples: y, sampleRate: config.sample_rate, gain: gain, refinedBlocks: 0)
    }
}
