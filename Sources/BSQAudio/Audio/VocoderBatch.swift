import Foundation

/// `mel2wav`'s job: mel frames from files or standard input to audio files
/// through `MelVocoder` (Griffin-Lim) or a `NeuralVocoder`, each with the
/// analysis in its metadata. One frame
/// goes to a writer (standard output) or a file; a stream of many goes to a
/// folder, one file per frame named by its key, made `jobs` frames at a time
/// and written in stream order. A bad frame of a stream is reported to
/// `diagnostics` and skipped.
public struct VocoderBatch: Sendable {
    public enum Destination {
        /// The encoded audio file's bytes, to standard output.
        case writer(FrameWriter)
        case file(String)
        case folder(String)
    }

    /// Which frames go to the neural vocoder rather than Griffin-Lim.
    public enum Choice: Sendable {
        case griffinLim
        /// Every frame; a frame it cannot take is an error.
        case neural(NeuralVocoder)
        /// The frames `bsq-decode` made (`decoded_by` in their metadata) when
        /// the vocoder takes their analysis; Griffin-Lim for the others.
        case decoded(NeuralVocoder)
    }

    public var vocoder: MelVocoder
    public var choice: Choice
    public var format: SoundFile.Format
    public var jobs: Int
    public var diagnostics: Diagnostics
    /// Shown the frames done, when given (one file per frame).
    nonisolated(unsafe) public var progress: ProgressDisplay?

    public init(vocoder: MelVocoder, choice: Choice = .griffinLim, format: SoundFile.Format, jobs: Int = 1, diagnostics: Diagnostics = .silent) {
        self.vocoder = vocoder
        self.choice = choice
        self.format = format
        self.jobs = jobs
        self.diagnostics = diagnostics
    }

    /// Runs over every frame of `inputs`; returns how many frames were written of how many read.
    public func run(_ inputs: FrameInputs, to destination: Destination) throws -> (processed: Int, total: Int) {
        BLAS.setThreads(1)
        let cache = InverseCache()
        switch destination {
        case .folder(let dir):
            return try run(inputs, folder: dir, cache: cache)
        case .file(let path):
            let out = try synthesizeOnly(inputs, cache: cache, to: path)
            try SoundFile.write(out.samples, channels: 1, sampleRate: out.sampleRate, format: format, to: path)
        case .writer(let writer):
            let out = try synthesizeOnly(inputs, cache: cache)
            try writer.writeRaw(try SoundFile.encode(out.samples, channels: 1, sampleRate: out.sampleRate, format: format))
        }
        return (1, 1)
    }

    /// The waveform of the one frame the inputs must hold.
    private func synthesizeOnly(_ inputs: FrameInputs, cache: InverseCache, to path: String? = nil) throws -> MelVocoder.Output {
        var only: (Frame, Int)?
        try inputs.forEach { frame, index in
            guard only == nil else {
                // "-o out" names one file; a folder that does not exist yet is "-o out/"
                let bare = path.map { !AudioInputs.extensions.contains(AudioInputs.fileExtension(AudioInputs.fileName($0)).lowercased()) } ?? false
                let advice = bare ? "give -o \(path!)/ (with the /) to write one file per frame into a new folder \(path!)"
                    : "give -o DIR/ (a folder: an existing one, or a path ending in /) to write one file per frame"
                throw BSQError("the input holds more than one frame, and \(path.map { "-o \($0) names one file" } ?? "standard output takes one"): " + advice)
            }
            only = (frame, index)
        }
        guard let (frame, index) = only else { throw BSQError("the input holds no frames") }
        return try synthesize(frame, index: index, cache: cache, threads: jobs)
    }

    /// One file per frame under `dir`.
    private func run(_ inputs: FrameInputs, folder dir: String, cache: InverseCache) throws -> (processed: Int, total: Int) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var names: [String: Int] = [:]
        var processed = 0, total = 0
        let me = self
        try OrderedParallel.run(jobs: jobs, feed: { submit in
            try inputs.forEach { frame, index in try submit((frame, index)) }
        }, work: { frame, index -> Result<MelVocoder.Output, BSQError> in
            do { return .success(try me.synthesize(frame, index: index, cache: cache)) }
            catch let e as BSQError { return .failure(e) }
            catch { return .failure(BSQError("\(frame.label(index: index)): \(error)")) }
        }, consume: { item, result in
            let (frame, index) = item
            total += 1
            do {
                let out = try result.get()
                let name = VocoderBatch.fileName(key: frame.key, index: index) + "." + VocoderBatch.fileExtension(format)
                if let first = names[name] {
                    throw BSQError("\(frame.label(index: index)): \(name) was already written for frame \(first)")
                }
                names[name] = index
                let path = (dir.hasSuffix("/") ? dir : dir + "/") + name
                if name.contains("/") {
                    try FileManager.default.createDirectory(atPath: String(path[..<path.lastIndex(of: "/")!]),
                                                            withIntermediateDirectories: true)
                }
                try SoundFile.write(out.samples, channels: 1, sampleRate: out.sampleRate, format: format, to: path)
                processed += 1
            } catch let e as BSQError {
                progress?.finish()
                diagnostics.problem(e.message)
            }
            progress?.update(total, note: "")
        })
        progress?.finish()
        // an empty part of frames that exist (--shard K/N with N > M) is no error
        if total == 0, (inputs.part?.total ?? 0) == 0 { throw BSQError("the input holds no frames") }
        return (processed, total)
    }

    /// One frame's waveform (a neural vocoder on `threads` workers); errors name the frame.
    func synthesize(_ frame: Frame, index: Int, cache: InverseCache, threads: Int = 1) throws -> MelVocoder.Output {
        let label = frame.label(index: index)
        do {
            let mel = try MelFrame(frame)
            var analysis = MelAnalysis()
            if let m = frame.meta["mel"] {
                analysis = try MelAnalysis(metadata: m)
                guard analysis.nMels == mel.nMels else {
                    throw BSQError("the metadata says \(analysis.nMels) mel bands, the frame has \(mel.nMels)")
                }
            } else {
                analysis.nMels = mel.nMels
                if cache.firstWarning() {
                    diagnostics.warning("\(label): no mel analysis in the metadata: assuming mel's defaults")
                }
            }
            let samples = mel.frames.multipliedReportingOverflow(by: analysis.hopLength)
            guard !samples.overflow, samples.partialValue <= MelVocoder.maxSamples else {
                throw BSQError("\(mel.frames) frames at hop \(analysis.hopLength) would make more than \(MelVocoder.maxSamples) samples, the limit of one output")
            }
            var out = try render(mel, analysis: analysis, cache: cache, threads: threads)
            if frame.meta["silent"]?.bool == true {          // mel's mark of digital silence: it stays silent
                out.samples = [Float](repeating: 0, count: out.samples.count)
                out.gain = nil
            }
            return out
        } catch let e as BSQError {
            throw BSQError("\(label): \(e.message)")
        }
    }

    /// The waveform of a checked mel frame, through the vocoder `choice` picks.
    private func render(_ mel: MelFrame, analysis: MelAnalysis, cache: InverseCache, threads: Int) throws -> MelVocoder.Output {
        switch choice {
        case .griffinLim: break
        case .neural(let neural):
            return try neural.synthesize(decibels: mel.values, frames: mel.frames, analysis: analysis, peak: vocoder.peak, threads: threads)
        case .decoded(let neural):
            if mel.isDecoded, (try? neural.check(analysis)) != nil {
                return try neural.synthesize(decibels: mel.values, frames: mel.frames, analysis: analysis, peak: vocoder.peak, threads: threads)
            }
        }
        return try vocoder.synthesize(decibels: mel.values, frames: mel.frames, inverse: cache.inverse(analysis))
    }

    /// A frame's file name under the folder, without extension: its key with
    /// empty, `.` and `..` parts dropped, or `frame-N` for a frame without one.
    public static func fileName(key: String?, index: Int) -> String {
        let parts = (key ?? "").split(separator: "/").filter { $0 != "." && $0 != ".." }
        return parts.isEmpty || key == "-" ? "frame-\(index)" : parts.joined(separator: "/")
    }

    public static func fileExtension(_ format: SoundFile.Format) -> String {
        switch format {
        case .wav16, .wavFloat: return "wav"
        default: return format.rawValue
        }
    }

    /// The format a file name asks for by its extension (nil: not an audio extension the kit writes).
    public static func format(forPath path: String) -> SoundFile.Format? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "wav", "wave": return .wav16
        case "flac": return .flac
        case "ogg", "oga": return .ogg
        case "opus": return .opus
        case "mp3": return .mp3
        default: return nil
        }
    }
}

/// One `MelInverse` per distinct analysis (its pseudo-inverse takes a few
/// milliseconds to make), shared by the worker threads.
final class InverseCache: @unchecked Sendable {
    private let lock = NSLockLite()
    private var made: [(MelAnalysis, MelInverse)] = []
    private var warned = false

    func inverse(_ analysis: MelAnalysis) -> MelInverse {
        if let hit = lock.sync({ made.first { $0.0 == analysis }?.1 }) { return hit }
        let inverse = MelInverse(analysis)
        lock.sync { if !made.contains(where: { $0.0 == analysis }) { made.append((analysis, inverse)) } }
        return inverse
    }

    /// True the first time only.
    func firstWarning() -> Bool { lock.sync { defer { warned = true }; return !warned } }
}
