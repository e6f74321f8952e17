import ArgumentParser
import BSQAudio
import BSQAudioCLI
import Foundation

@main
struct Mel2Wav: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "mel2wav",
        abstract: "Turn mel frames (dB) back into audio with fast Griffin-Lim, as librosa's mel_to_audio does.",
        discussion: """
            Each INPUT is a BSQT stream of mel frames (- or none for standard input), such as mel \
            or bsq-decode write. Each frame is converted back to power with the analysis in its \
            metadata, to an STFT magnitude by non-negative least squares, and to a waveform by \
            --iters iterations of fast Griffin-Lim from random phase (librosa's \
            feature.inverse.mel_to_audio with random_state=--seed). Frames whose dB reference is \
            max have lost their level: they are scaled to a peak of 0.9 (see --peak). One frame \
            goes to standard output or to -o FILE; a stream of several needs -o DIR, where each \
            frame becomes DIR/KEY.wav.

            Examples:
              mel a.wav | mel2wav -o a.rec.wav
              mel a.wav | bsq-encode -m model.safetensors | bsq-decode -m model.safetensors | mel2wav -o a.rec.wav
              mel2wav -o rec/ -j 4 dev-clean.mel
              mel2wav -o rec/ --shard 3/4 dev-clean.mel     # the third of 4 parts of the frames
              mel2wav --iters 100 --format flac < a.mel > a.rec.flac
            """,
        version: KitVersion.text(tool: "mel2wav")
    )

    @Argument(help: "BSQT streams of mel frames (- for standard input, the default).", completion: .file())
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this audio file, or, for a folder (an existing one, or a path ending in /), one file per frame named by its key.", valueName: "file|dir"), completion: .file())
    var output: String?

    @Option(help: ArgumentHelp("Audio format: wav (16-bit), wav-float, flac, ogg, opus or mp3 (default: by the extension of -o FILE, else wav).", valueName: "format"))
    var format: SoundFile.Format?

    @Option(help: ArgumentHelp("How frames become audio: auto (the default: the neural vocoder shipped with the kit for frames bsq-decode made, Griffin-Lim for the others), griffin-lim, default (the shipped vocoder for every frame) or a vocoder FILE trained by bsq-train vocoder.", valueName: "auto|griffin-lim|default|file"), completion: .file())
    var vocoder: String = "auto"

    @Option(help: ArgumentHelp("Griffin-Lim iterations (default 32).", valueName: "n"))
    var iters = 32
    @Option(help: ArgumentHelp("Momentum of fast Griffin-Lim, 0 for the original algorithm (default 0.99).", valueName: "m"))
    var momentum = 0.99
    @Option(help: ArgumentHelp("Initial phase: random (default) or zeros.", valueName: "random|zeros"))
    var initPhase: InitPhase = .random
    @Option(help: ArgumentHelp("Seed of the random initial phase: numpy's RandomState(seed), as librosa's random_state (default 0).", valueName: "n"))
    var seed: UInt32 = 0
    @Option(help: ArgumentHelp("Scale each output to this peak (default: 0.9 when the frames' dB reference is max, else keep the level).", valueName: "p"))
    var peak: Double?

    @OptionGroup var sharding: ShardOption<ShardFrames>

    @Option(name: .shortAndLong, help: ArgumentHelp("Frames processed in parallel (default: the number of cores).", valueName: "n"))
    var jobs: Int?
    @Flag(name: .shortAndLong, help: "Nothing on stderr but errors: no warnings, no summary when every frame was made.")
    var quiet = false

    enum InitPhase: String, ExpressibleByArgument, CaseIterable { case random, zeros }

    /// How --vocoder sends frames to the neural vocoder. `auto` without an
    /// installed vocoder is Griffin-Lim (with a warning when frames from codes come).
    func choice(_ diagnostics: Diagnostics) throws -> VocoderBatch.Choice {
        switch vocoder {
        case "griffin-lim": return .griffinLim
        case "default": return .neural(try NeuralVocoder(path: try DefaultModel.vocoderPath()))
        case "auto":
            guard let path = try? DefaultModel.vocoderPath() else {
                diagnostics.warning("the default vocoder is not installed: Griffin-Lim for every frame")
                return .griffinLim
            }
            return .decoded(try NeuralVocoder(path: path))
        default: return .neural(try NeuralVocoder(path: vocoder))
        }
    }

    func validate() throws {
        if iters < 0 { throw ValidationError("--iters must be >= 0 (got \(iters))") }
        if !(momentum >= 0) || !momentum.isFinite { throw ValidationError("--momentum must be >= 0 (got \(momentum))") }
        if let peak, !(peak > 0 && peak <= 1) { throw ValidationError("--peak must be > 0 and at most 1 (got \(peak))") }
        if let jobs, jobs <= 0 { throw ValidationError("--jobs must be > 0 (got \(jobs))") }
        try StandardInput.checkReadOnce(inputs)
        try sharding.checkFrameFiles(inputs)
        if let text = sharding.text {
            guard case .folder = OutputTarget(output, folders: true) else {
                throw ValidationError("--shard \(text) needs -o DIR: each part writes its frames' files into the folder")
            }
        }
    }

    func run() throws {
        var griffinLim = MelVocoder()
        griffinLim.iterations = iters
        griffinLim.momentum = momentum
        griffinLim.initialization = initPhase == .zeros ? .zeros : .random(seed: seed)
        griffinLim.peak = peak
        let target = OutputTarget(output, folders: true)
        try target.check(inputs: inputs)
        var chosen = format
        if chosen == nil, case .file(let path) = target { chosen = VocoderBatch.format(forPath: path) }
        let diagnostics = ToolProcess.diagnostics(quiet: quiet)
        var batch = VocoderBatch(vocoder: griffinLim, choice: try choice(diagnostics), format: chosen ?? .wav16,
                                 jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, diagnostics: diagnostics)
        if target == .standardOutput { try StandardOutput.checkNotTerminal() }
        if case .folder = target { batch.progress = ProgressBar(counting: "frames", enabled: !quiet) }
        let (processed, total) = try batch.run(try sharding.frames(inputs), to: VocoderBatch.Destination(target))
        try ToolProcess.finishBatch(processed: processed, of: total, quiet: quiet)
    }
}
