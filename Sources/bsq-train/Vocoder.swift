import ArgumentParser
import Foundation
import BSQAudio
import BSQAudioCLI

struct Vocoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the neural vocoder (mel2wav --vocoder) on folders of audio.",
        discussion: """
            Each step draws `batch` crops of `segment` mel frames (1 s at 101) with the samples they \
            stand for, in an order that depends only on the seed and the step; runs the Vocos network \
            (docs/vocoder.md) forward and backward with the multi-resolution mel L1 (x45) plus \
            multi-resolution STFT loss, clips the gradient norm, and takes an AdamW step at the \
            warmup-then-cosine learning rate, with the EMA of the weights beside them. With --codec \
            MODEL the input frames are what that tokenizer gives back from its codes \
            (bsq-decode(bsq-encode(mel))) and the target the original audio, so that the vocoder learns \
            to undo the tokens' errors. The run folder, log, checkpoints, SIGINT and --resume behave \
            as in bsq-train train; bsq-train export writes the shipped form.
            """)

    @OptionGroup var options: RunOptions

    @Option(help: "Vocoder preset: tiny or base (default: tiny).", completion: .list(["tiny", "base"]))
    var preset: String?

    @Option(name: .customLong("init"), help: ArgumentHelp("Fine-tune: start from the weights of this vocoder (its EMA weights when it has them) and its configuration, with a fresh optimizer and schedule.", valueName: "file"), completion: .file())
    var initFrom: String?

    @Option(help: ArgumentHelp("Fine-tune on this tokenizer's reconstructions: the input mel is bsq-decode(bsq-encode(mel)) with it.", valueName: "model"), completion: .file())
    var codec: String?

    func validate() throws {
        if options.data.isEmpty && options.lists.isEmpty { throw ValidationError("no training audio (give folders, files or --list)") }
        if initFrom != nil && preset != nil { throw ValidationError("--init takes the vocoder from its file; change fields with --set, not --preset") }
        if options.resume != nil && (preset != nil || initFrom != nil || codec != nil || options.setsConfiguration) {
            throw ValidationError("a resumed run keeps its configuration (and its --codec); only --steps may change")
        }
        if options.resume == nil && initFrom == nil { _ = try configuration(base: nil) }
    }

    /// A new run's configuration; its errors are usage errors (exit 64).
    func configuration(base: VocoderConfig?) throws -> VocoderRunConfig {
        let shortcuts = RunConfig.shortcuts(steps: options.steps, batch: options.batch, lr: options.lr, seed: options.seed,
                                            specaug: false, recompute: false)
        do {
            return try VocoderRunConfig.resolve(preset: preset ?? "tiny", file: options.config, overrides: options.sets + shortcuts, base: base)
        } catch let e as BSQError { throw ValidationError(e.message) }
    }

    func run() throws {
        guard try Distributed.join().size == 1 else {
            throw BSQError("bsq-train vocoder trains in one process; start it without mpirun (bsq-train train is the data-parallel trainer)")
        }
        let state: VocoderState
        let directory = Trainer.folder(output: options.output, resuming: options.resume)
        if let resume = options.resume {
            state = try VocoderState(resume: AudioInputs.isDirectory(resume) ? try Trainer.latest(in: resume) : resume, steps: options.steps)
        } else {
            let start = try initFrom.map { try VocoderCheckpoint(path: $0) }
            state = VocoderState(run: try configuration(base: start?.config))
            try Trainer.checkNewRun(folder: directory)
            if let start { state.params = start.weights; state.ema = start.weights }
        }
        let trainer = try VocoderTrainer(state: state, operands: options.data, lists: options.lists, root: options.root, val: options.val,
                                         codec: try state.codecModel(path: codec), directory: directory, log: options.log, threads: options.threads)
        trainer.progress = ProgressBar(total: state.run.train.steps, label: "steps", enabled: !options.quiet)
        if let plot = options.plot { trainer.plotCurves(into: plot) }
        ToolProcess.deferInterrupts()
        ToolProcess.finishRun(try trainer.run(resumed: options.resume != nil), step: state.step, of: state.run.train.steps, directory: directory, quiet: options.quiet)
    }
}
