import ArgumentParser
import BSQAudio
import BSQAudioCLI
import Foundation

@main
struct Mel: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "mel",
        abstract: "Compute librosa-exact log-mel spectrograms of audio files as BSQT frames.",
        discussion: """
            Each INPUT is an audio file (wav, flac, ogg/vorbis, opus, mp3, …), a folder searched \
            recursively for audio files, or `-` for a whole audio file on standard input (the \
            default). Audio is averaged to mono and resampled with libsoxr (high quality), as \
            librosa.load does. One frame per input goes to standard output: kind "mel", f32 \
            [frames, n_mels], in dB. Defaults are librosa's melspectrogram at 16 kHz, n_fft 1024, \
            hop 160, 128 Slaney mels, then power_to_db(ref=np.max, top_db=80): values in [-80, 0].

            Examples:
              mel a.wav > a.mel
              mel LibriSpeech/dev-clean/ > dev-clean.mel
              mel --list cv/validated.tsv > cv.mel
              mel --shard 2/8 corpus/ > part2.mel       # the second of 8 parts
              sox talk.mp3 -t wav - | mel - | bsq-tensor info
            """,
        version: KitVersion.text(tool: "mel")
    )

    @Argument(help: "Audio files, folders, or - for standard input.", completion: .file())
    var inputs: [String] = []

    @Option(help: ArgumentHelp("Read inputs from a list: one path per line, or a TSV with a 'path' column.", valueName: "file"), completion: .file())
    var list: String?

    @Option(help: ArgumentHelp("Folder that relative paths in --list are under (default: the list's folder, or its clips/ folder for a TSV).", valueName: "dir"), completion: .directory)
    var root: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write frames to this file (atomically) instead of standard output.", valueName: "file"), completion: .file())
    var output: String?

    @Option(help: "Start from a preset's settings: librosa (default) or torchaudio.")
    var preset: Preset = .librosa

    @Option(name: [.long, .customLong("sr")], help: ArgumentHelp("Sample rate the audio is resampled to (Hz, default 16000; --sr as librosa names it).", valueName: "hz"))
    var sampleRate: Int?
    @Option(help: ArgumentHelp("FFT size (default 1024).", valueName: "n"))
    var nFft: Int?
    @Option(help: ArgumentHelp("Hann window length, centered in the FFT (default: --n-fft).", valueName: "n"))
    var winLength: Int?
    @Option(name: [.long, .customLong("hop")], help: ArgumentHelp("Samples between frames (default 160; also --hop).", valueName: "n"))
    var hopLength: Int?
    @Option(help: ArgumentHelp("Number of mel bands (default 128).", valueName: "n"))
    var nMels: Int?
    @Option(help: ArgumentHelp("Lowest filter edge (Hz, default 0).", valueName: "hz"))
    var fmin: Double?
    @Option(help: ArgumentHelp("Highest filter edge (Hz, default: half the sample rate).", valueName: "hz"))
    var fmax: Double?
    @Option(help: "Mel scale: slaney (default) or htk.")
    var melScale: MelScale?
    @Option(help: "Filter normalization: slaney (default, equal area) or none (peak 1).")
    var norm: MelNorm?
    @Option(help: ArgumentHelp("Exponent of the magnitude (2 power, 1 magnitude; default 2).", valueName: "p"))
    var power: Double?
    @Flag(inversion: .prefixedNo, help: "Center frames on their time by padding n_fft/2 each side (default: on).")
    var center: Bool?
    @Option(help: "Padding when centered: constant (zeros, default) or reflect.")
    var padMode: MelAnalysis.PadMode?
    @Option(help: ArgumentHelp("dB reference: max (the file's loudest bin, default) or a fixed power.", valueName: "max|value"))
    var ref: String?
    @Option(help: ArgumentHelp("Smallest power before the log (default 1e-10).", valueName: "a"))
    var amin: Double?
    @Option(help: ArgumentHelp("Clip to this many dB below the loudest bin, or none (default 80).", valueName: "db|none"))
    var topDb: String?

    @Option(help: ArgumentHelp("Pad (with the dB floor) or crop every spectrogram to exactly n frames.", valueName: "n"))
    var frames: Int?
    @Option(help: "Which frames --frames keeps: start (default), center or random.")
    var crop: FrameFit.Crop = .start
    @Option(help: "Seed of --crop random (the crop depends only on the seed and the key).")
    var seed: UInt64 = 0

    @OptionGroup var sharding: ShardOption<ShardFiles>

    @Option(name: .shortAndLong, help: ArgumentHelp("Inputs processed in parallel (default: the number of cores).", valueName: "n"))
    var jobs: Int?
    @Flag(help: "Compress payloads with zstd.")
    var zstd = false
    @Flag(name: .shortAndLong, help: "Nothing on stderr but errors: no progress bar (shown only on a terminal), no summary when every input was processed.")
    var quiet = false

    enum Preset: String, ExpressibleByArgument, CaseIterable { case librosa, torchaudio }

    func analysis() throws -> MelAnalysis {
        var a = preset == .torchaudio ? MelAnalysis.torchaudio : MelAnalysis.librosa
        if let sampleRate { a.sampleRate = sampleRate }
        if let nFft { a.nFFT = nFft }
        if let winLength { a.winLength = winLength }
        if let hopLength { a.hopLength = hopLength }
        if let nMels { a.nMels = nMels }
        if let fmin { a.fmin = fmin }
        if let fmax { a.fmax = fmax }
        if let melScale { a.melScale = melScale }
        if let norm { a.norm = norm }
        if let power { a.power = power }
        if let center { a.center = center }
        if let padMode { a.padMode = padMode }
        if let ref {
            if ref == "max" { a.ref = .max }
            else if let v = Double(ref) { a.ref = .value(v) }
            else { throw ValidationError("--ref must be 'max' or a power > 0 (got \(ref))") }
        }
        if let amin { a.amin = amin }
        if let topDb {
            if topDb == "none" { a.topDB = nil }
            else if let v = Double(topDb) { a.topDB = v }
            else { throw ValidationError("--top-db must be >= 0 or 'none' (got \(topDb))") }
        }
        do { try a.validate() } catch let e as BSQError { throw ValidationError(e.message) }
        return a
    }

    func validate() throws {
        _ = try analysis()
        if let frames, frames <= 0 { throw ValidationError("--frames must be > 0 (got \(frames))") }
        if let jobs, jobs <= 0 { throw ValidationError("--jobs must be > 0 (got \(jobs))") }
    }

    func run() throws {
        let target = OutputTarget(output)
        try target.check()
        let items = sharding.part(of: try AudioInputs.gather(inputs, list: list, root: root))
        try target.check(inputs: items.map(\.path))
        let batch = MelBatch(analysis: try analysis(),
                             fit: frames.map { FrameFit(frames: $0, crop: crop, seed: seed) },
                             jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, zstd: zstd)
        // an empty part (--shard K/N with N > M) is an empty stream
        let processed = try target.withFrameWriter(keep: { $0 > 0 || items.isEmpty }) { writer in
            try batch.run(items, to: writer, diagnostics: ToolProcess.diagnostics(quiet: quiet),
                          progress: ProgressBar(total: items.count, label: "files", enabled: !quiet))
        }
        try ToolProcess.finishBatch(processed: processed, of: items.count, quiet: quiet)
    }
}
