import ArgumentParser
import Foundation
import BSQAudio
import BSQAudioCLI

BSQTrain.main()   // main.swift is the entry point: subcommands live in files beside it

struct BSQTrain: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "bsq-train",
        abstract: "Create and train BSQ-ViT audio tokenizer checkpoints.",
        discussion: """
            Examples:
              bsq-train train --preset tiny --steps 20000 --val heldout/ --plot runs/tiny.png -o runs/tiny corpus/train/
              bsq-train train --resume runs/tiny corpus/train/
              bsq-train init --preset tiny --bits 18 --seed 1 -o init.safetensors
              bsq-train export --f16 --name tiny18 runs/tiny/model.safetensors -o tiny18.safetensors
              bsq-train vocoder --preset tiny --steps 20000 --val heldout/ -o runs/vocos corpus/train/
              bsq-train vocoder --codec tiny18.safetensors --init runs/vocos/model.safetensors -o runs/vocos-ft corpus/train/
              mel a.wav | bsq-encode -m tiny18.safetensors | bsq-tensor info
            """,
        version: KitVersion.text(tool: "bsq-train"),
        subcommands: [Train.self, Vocoder.self, Init.self, Export.self])
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a randomly initialised checkpoint of a preset.",
        discussion: """
            Linear weights, depthwise kernels and positional embeddings are normal with std 0.02, \
            biases 0, norm weights 1, BatchNorm running mean 0 and variance 1. The file is written \
            atomically.
            """)

    @Option(help: "Model size: tiny, small or base.", completion: .list(["tiny", "small", "base"]))
    var preset: String = "tiny"

    @Option(help: "Bits per token (the BSQ embedding dimension), e.g. 9, 18 or 36.")
    var bits: Int?

    @Option(help: "Bits per entropy group (default 9, or the bit count when smaller).")
    var groupSize: Int?

    @Flag(inversion: .prefixedNo, help: "Include the Conformer convolution module (default: on).")
    var conv = true

    @Option(help: "Seed of the initialisation.")
    var seed: UInt64 = 0

    @Option(help: "Name recorded in the config (default: the preset).")
    var name: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Checkpoint to write.", valueName: "file"), completion: .file())
    var output: String

    func config() throws -> ModelConfig {
        do { return try ModelConfig.preset(preset, bits: bits, groupSize: groupSize, conv: conv, named: name) } catch let e as BSQError {
            throw ValidationError(e.message)
        }
    }

    func validate() throws { _ = try config() }

    func run() throws {
        try Checkpoint.initialized(try config(), seed: seed).write(to: output)
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on folders of audio or streams of mel frames.",
        discussion: """
            Each step draws `batch` crops of `frames` mel rows (shorter examples padded with db_min) \
            in an order that depends only on the seed and the step, runs the model forward and \
            backward with the loss of docs/model.md, clips the gradient norm, and takes an AdamW step \
            at the warmup-then-cosine learning rate; the EMA of the weights is kept beside them. \
            The run folder gets step-NNNNNNNN.safetensors checkpoints (the last `keep`), \
            model.safetensors at the end, and log.jsonl. SIGINT or SIGTERM saves a checkpoint \
            first; --resume continues exactly where it stopped.
            """)

    @OptionGroup var options: RunOptions

    @Option(help: "Model preset: tiny, small or base (default: tiny).", completion: .list(["tiny", "small", "base"]))
    var preset: String?

    @Option(name: .customLong("init"), help: ArgumentHelp("Fine-tune: start from the weights of this model or checkpoint (its EMA weights when it has them) and its model configuration, with a fresh optimizer and schedule.", valueName: "file"), completion: .file())
    var initFrom: String?

    @Flag(help: "Apply SpecAugment masks to the training crops (train.specaug).")
    var specaug = false

    @Flag(help: "Gradient checkpointing: recompute block activations in the backward (train.recompute).")
    var recompute = false

    func validate() throws {
        if options.data.isEmpty && options.lists.isEmpty { throw ValidationError("no training data (give audio folders, files, mel frames or --list)") }
        if initFrom != nil && preset != nil { throw ValidationError("--init takes the model from its file; change fields with --set model.FIELD=VALUE, not --preset") }
        if options.resume != nil && (preset != nil || initFrom != nil || options.setsConfiguration || specaug || recompute) {
            throw ValidationError("a resumed run keeps its configuration; only --steps may change")
        }
        // with --init, run() checks the configuration once the file is read
        if options.resume == nil && initFrom == nil { _ = try configuration(nil) }
    }

    /// The configuration of a new run; its errors are usage errors (exit 64).
    func configuration(_ start: (checkpoint: Checkpoint, path: String)?) throws -> RunConfig {
        let shortcuts = RunConfig.shortcuts(steps: options.steps, batch: options.batch, lr: options.lr, seed: options.seed, specaug: specaug, recompute: recompute)
        do {
            return try TrainingState.configuration(preset: preset ?? "tiny", file: options.config, overrides: options.sets + shortcuts, start: start)
        } catch let e as BSQError { throw ValidationError(e.message) }
    }

    func run() throws {
        let all = try Distributed.join()
        let state: TrainingState
        let directory = Trainer.folder(output: options.output, resuming: options.resume)
        if let resume = options.resume {
            state = try TrainingState.resuming(resume, steps: options.steps)
        } else {
            let start = try initFrom.map { (checkpoint: try Checkpoint(path: $0), path: $0) }
            let run = try configuration(start)
            try Trainer.checkNewRun(folder: directory)
            if let start {
                state = TrainingState(run: run, initFrom: start.checkpoint, path: start.path)
            } else {
                state = TrainingState(run: run)
            }
        }
        try Distributed.check(state.run, data: options.data, on: all)
        let trainer = try Trainer(state: state, operands: options.data, lists: options.lists, root: options.root, val: options.val,
                                  directory: directory, log: options.log, threads: options.threads, collective: all)
        let writer = all.rank == 0
        trainer.progress = ProgressBar(total: state.run.train.steps, label: "steps", enabled: !options.quiet && writer)
        if let plot = options.plot, writer { trainer.plotCurves(into: plot) }
        ToolProcess.deferInterrupts()
        ToolProcess.finishRun(try trainer.run(resumed: options.resume != nil), step: state.step, of: state.run.train.steps, directory: directory,
                              quiet: options.quiet, silent: !writer)
    }
}

/// The options `bsq-train train` and `bsq-train vocoder` share: data, run folder, configuration, schedule, logs.
struct RunOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Training data: audio folders or files (train also takes files of mel frames, '-': stdin).", valueName: "data"), completion: .file())
    var data: [String] = []

    @Option(name: .customLong("list"), help: ArgumentHelp("A list of audio files (one path per line, or a TSV with a 'path' column).", valueName: "file"), completion: .file())
    var lists: [String] = []

    @Option(help: ArgumentHelp("Folder that relative paths in lists are resolved against.", valueName: "dir"), completion: .directory)
    var root: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Run folder (created if missing; a new run refuses one that holds a run).", valueName: "dir"), completion: .directory)
    var output: String?

    @Option(help: ArgumentHelp("Continue a run: a checkpoint, or a run folder (its latest checkpoint).", valueName: "path"), completion: .file())
    var resume: String?

    @Option(help: ArgumentHelp("JSON file of sections ({\"model\"|\"vocoder\": {...}, \"train\": {...}}) overriding the preset's fields.", valueName: "file"), completion: .file())
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one field, e.g. train.lr=1e-3 or model.layers=2 (repeatable).", valueName: "section.field=value"))
    var sets: [String] = []

    @Option(help: "Training steps (train.steps; may be raised when resuming).")
    var steps: Int?

    @Option(help: "Crops per step (train.batch).")
    var batch: Int?

    @Option(help: "Peak learning rate (train.lr).")
    var lr: Double?

    @Option(help: "Seed of initialisation, data order, crops and masks (train.seed).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Held-out data evaluated with the EMA weights every train.val_every steps (repeatable).", valueName: "path"), completion: .file())
    var val: [String] = []

    @Option(help: ArgumentHelp("JSON-lines log (default: RUN/log.jsonl).", valueName: "file"), completion: .file())
    var log: String?

    @Option(help: ArgumentHelp("Redraw the training curves (bsq-plot curves) into this PNG at every checkpoint.", valueName: "file"), completion: .file())
    var plot: String?

    @Option(help: "Workers of the training step and the validation (OpenBLAS runs single-threaded inside each).")
    var threads: Int = 2

    @Flag(name: .shortAndLong, help: "No progress bar or summary.")
    var quiet = false

    /// Whether any option sets a field of the configuration (which a resumed run keeps).
    var setsConfiguration: Bool { config != nil || !sets.isEmpty || batch != nil || lr != nil || seed != nil }

    func validate() throws {
        if output == nil && resume == nil { throw ValidationError("give a run folder with -o (or --resume)") }
        if threads < 1 || threads > 256 { throw ValidationError("--threads must be in 1...256") }
    }
}
