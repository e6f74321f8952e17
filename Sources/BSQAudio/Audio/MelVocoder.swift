/// Mel frames in dB back to a waveform, the way
/// `librosa.feature.inverse.mel_to_audio` does it: dB to mel power with the
/// frame's analysis (`MelInverse.power`), non-negative least squares to an
/// STFT magnitude (`MelInverse.magnitude`), then fast Griffin-Lim on the
/// analysis' STFT (`GriffinLim`). The output has `STFT.signalLength(frames)`
/// samples, librosa's length.
///
/// With `ref = max` the frames hold levels relative to their loudest bin
/// only, so the absolute level is lost: the waveform is then scaled to a
/// peak of `peak` (0.9 unless set). With a fixed reference the level is
/// kept, unless `peak` is set.
public struct MelVocoder: Sendable {
    public var iterations = 32
    public var momentum = 0.99
    public var initialization = GriffinLim.Initialization.random(seed: 0)
    /// The peak to scale to; nil: `defaultPeak` for `ref = max`, no scaling otherwise.
    public var peak: Double? = nil
    public static let defaultPeak = 0.9

    public init() {}

    /// A waveform and what was done to its level.
    public struct Output: Sendable {
        public var samples: [Float]
        public var sampleRate: Int
        /// The gain applied to reach the peak (nil: none).
        public var gain: Float?
        /// NNLS blocks that librosa's stopping rule did not accept at once (see `MelInverse`).
        public var refinedBlocks: Int
    }

    /// The waveform of `frames` × `inverse.analysis.nMels` dB values.
    public func synthesize(decibels: [Float], frames: Int, inverse: MelInverse) throws -> Output {
        let analysis = inverse.analysis
        let griffinLim = GriffinLim(analysis, iterations: iterations, momentum: momentum)
        guard griffinLim.stft.signalLength(frames: frames) > 0 else {
            throw BSQError("\(frames) mel frame\(frames == 1 ? "" : "s") make no audio (at least 2 are needed)")
        }
        let mel = inverse.power(decibels: decibels)
        let (magnitude, refined) = inverse.magnitude(melPower: mel, frames: frames)
        var y = griffinLim.reconstruct(magnitude: magnitude, frames: frames, initialization: initialization)
        let gain = MelVocoder.level(&y, analysis: analysis, peak: peak)
        return Output(samples: y, sampleRate: analysis.sampleRate, gain: gain, refinedBlocks: refined)
    }

    /// Scales `y` to a peak of `peak`, or of `defaultPeak` when the frames'
    /// reference is max and no peak is set; returns the gain (nil: none applied).
    /// The most samples one output may have (2³¹ − 1: a WAV's 8 GB of floats, 37 h at 16 kHz).
    public static let maxSamples = Int(Int32.max)

    public static func level(_ y: inout [Float], analysis: MelAnalysis, peak: Double?) -> Float? {
        guard let target = peak ?? (analysis.ref == .max ? MelVocoder.defaultPeak : nil) else { return nil }
        let top = y.reduce(Float(0)) { Swift.max($0, abs($1)) }
        guard top > 0 else { return nil }
        let g = Float(target) / top
        for i in y.indices { y[i] *= g }
        return g
    }
}
