import Foundation

/// `mel`'s job: every input decoded, resampled, analysed and framed, in
/// parallel over the inputs, written in input order. Bad inputs are reported
/// to `diagnostics` (`path: reason`) and skipped.
public struct MelBatch: Sendable {
    public var analysis: MelAnalysis
    public var fit: FrameFit?
    public var jobs: Int
    public var zstd: Bool

    public init(analysis: MelAnalysis, fit: FrameFit? = nil, jobs: Int = 1, zstd: Bool = false) {
        self.analysis = analysis
        self.fit = fit
        self.jobs = jobs
        self.zstd = zstd
    }

    enum Outcome: Sendable {
        case frame([UInt8], seconds: Double, warning: String?)
        case failure(String)
    }

    /// Processes `inputs` (an input "-" is the audio file on standard input,
    /// read whole first). Shows the inputs done (and the speed) on
    /// `progress`. Returns how many inputs made a frame.
    public func run(_ inputs: [AudioInput], to writer: FrameWriter,
                    diagnostics: Diagnostics = .silent, progress: ProgressDisplay? = nil) throws -> Int {
        let stdin = inputs.contains { $0.path == "-" } ? try AudioLoader.readStandardInput() : nil
        BLAS.setThreads(1)
        let spectrogram = MelSpectrogram(analysis)
        let me = self
        let start = Date()
        var processed = 0
        var audioSeconds = 0.0
        try OrderedParallel.run(count: inputs.count, jobs: jobs, work: { i in
            me.process(inputs[i], stdin: stdin, with: spectrogram)
        }, consume: { i, outcome in
            switch outcome {
            case .frame(let bytes, let seconds, let warning):
                if let warning { progress?.finish(); diagnostics.warning(warning) }
                try writer.writeRaw(bytes)
                processed += 1
                audioSeconds += seconds
            case .failure(let message):
                progress?.finish()
                diagnostics.problem(message)
            }
            progress?.update(i + 1, note: String(format: "%.0fx realtime", audioSeconds / max(Date().timeIntervalSince(start), 1e-9)))
        })
        progress?.finish()
        return processed
    }

    func process(_ input: AudioInput, stdin: [UInt8]?, with spectrogram: MelSpectrogram) -> Outcome {
        if let problem = input.problem { return .failure("\(input.path): \(problem)") }
        do {
            let source: AudioSource = input.path == "-" ? .bytes(stdin ?? [], name: "-") : .path(input.path)
            let y = try AudioLoader.loadMono(source, sampleRate: analysis.sampleRate)
            var mel: LogMel
            do { mel = try spectrogram.compute(y) } catch let e as BSQError { throw BSQError("\(input.path): \(e.message)") }
            var crop: MelFrame.Crop?
            if let fit {
                let fitted = fit.apply(mel, key: input.key)
                crop = MelFrame.Crop(offset: fitted.offset, of: mel.frames)
                mel = fitted.mel
            }
            var meta = MelFrame.metadata(key: input.key, source: input.path, analysis: analysis, crop: crop)
            // digital silence: librosa's dB of it are 0 everywhere (ref = max of nothing); say so, and mark it for mel2wav
            let silent = !y.contains { $0 != 0 }
            if silent { meta["silent"] = true }
            let bytes = try mel.values.withUnsafeBytes {
                try FrameWriter.encode(dtype: .f32, dims: [mel.frames, mel.nMels], meta: meta, payload: $0, zstd: zstd)
            }
            return .frame(bytes, seconds: Double(y.count) / Double(analysis.sampleRate),
                          warning: silent ? "\(input.path): digital silence (every sample is 0); its frame is marked \"silent\", which mel2wav renders as silence" : nil)
        } catch let e as BSQError {
            return .failure(e.message)
        } catch {
            return .failure("\(input.path): \(error)")
        }
    }
}
