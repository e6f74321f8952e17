import Foundation

/// Starting a run as `bsq-train train` does: a new run (from a preset or,
/// fine-tuning, from a model) or a resumed one, its folder, its data.
extension TrainingState {
    /// A new run's configuration: the preset's model, or the model of `start`
    /// (fine-tuning), then `file` and `overrides`; `start`'s tensors must fit it.
    public static func configuration(preset: String, file: String?, overrides: [String],
                                     start: (checkpoint: Checkpoint, path: String)? = nil) throws -> RunConfig {
        let run = try RunConfig.resolve(preset: preset, file: file, overrides: overrides, base: start?.checkpoint.config)
        if let start { try checkFits(start.checkpoint, run.model, path: start.path) }
        return run
    }

    /// An `--init` model's tensors must have the shapes the run's model needs
    /// (the loss fields, group_size and persample_entropy, may differ).
    static func checkFits(_ start: Checkpoint, _ model: ModelConfig, path: String) throws {
        let need = ParameterLayout(model).slots, have = start.layout.slots
        for (n, h) in zip(need, have) where n.name != h.name || n.shape != h.shape {
            throw BSQError("--init \(path): tensor '\(h.name)' has shape \(h.shape), the run's model needs '\(n.name)' \(n.shape)")
        }
        guard need.count == have.count else {
            throw BSQError("--init \(path): \(have.count) tensors, the run's model has \(need.count)")
        }
    }

    /// The state a resumed run goes on from: `path` is a checkpoint, or a run
    /// folder (its latest checkpoint); `steps` moves the end of the run.
    public static func resuming(_ path: String, steps: Int?) throws -> TrainingState {
        let file = AudioInputs.isDirectory(path) ? try Trainer.latest(in: path) : path
        let state = try TrainingState(resume: file)
        if let steps {
            var run = state.run
            run.train.steps = steps
            try run.validate()
            state.run = run
        }
        guard state.step < state.run.train.steps else {
            throw BSQError("\(file): the run is at step \(state.step) of \(state.run.train.steps) already (raise --steps to go on)")
        }
        return state
    }
}

extension Trainer {
    /// The run folder: `output`, else the folder resumed (that of a checkpoint given).
    public static func folder(output: String?, resuming: String?) -> String {
        if let output { return output }
        let r = resuming ?? "."
        return AudioInputs.isDirectory(r) ? r : AudioInputs.directoryName(r)
    }

    /// Creates the run folder when it does not exist and locks it for this
    /// process (`.lock` in it holds the pid; a second trainer, new or
    /// resumed, is refused while this one runs); then removes what writers
    /// killed in an earlier run left behind (`.NAME.tmp-XXXXXX`).
    static func makeFolder(_ directory: String) throws {
        if !AudioInputs.isDirectory(directory) {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw BSQError("\(directory): cannot create the run folder")
            }
        }
        try RunFolderLock.acquire(directory)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".") && name.dropLast(6).hasSuffix(".tmp-") {
            unlink(directory + "/" + name)
        }
    }

    /// A new run refuses a folder that holds a run.
    public static func checkNewRun(folder: String) throws {
        guard AudioInputs.isDirectory(folder) else { return }
        if !checkpoints(in: folder).isEmpty || FileManager.default.fileExists(atPath: folder + "/" + finalName) {
            throw BSQError("\(folder): already holds a run (continue it with --resume, or choose another folder)")
        }
    }

    /// Reads the training data (`operands` and `lists`, as `mel` takes them) and
    /// the held-out data `val` for `state`'s model (in a data-parallel run, this
    /// process's part of it), then (rank 0) makes and locks the run folder.
    public convenience init(state: TrainingState, operands: [String], lists: [String], root: String?, val: [String],
                            directory: String, log: String?, threads: Int, collective: Collective = SingleProcess()) throws {
        let c = state.run.model, t = state.run.train
        let examples = try TrainingData.examples(operands: operands, lists: lists, root: root, model: c)
        let training = try TrainingData(examples: examples, model: c, seed: t.seed, specAugment: t.specAugment)
        var validation: ValidationSet?
        if !val.isEmpty {
            let v = try TrainingData.examples(operands: val, lists: [], root: nil, model: c)
            validation = try ValidationSet(TrainingData(examples: v, model: c, seed: 0, specAugment: nil), threads: threads,
                                           part: collective.part(of: v.count))
        }
        if collective.rank == 0 { try Trainer.makeFolder(directory) }
        self.init(state: state, data: training, validation: validation, directory: directory, log: log, threads: threads)
        self.collective = collective
    }

    /// Redraws the `bsq-plot curves` figure of the log into `png` at every checkpoint.
    public func plotCurves(into png: String) {
        let title = "bsq-train: " + (state.run.model.name ?? "model") + " (" + directory + ")"
        plot = { log in try TrainingLog.writeCurves(log: log, title: title, to: png) }
    }
}

/// The lock of a run folder, held until the process ends.
enum RunFolderLock {
    nonisolated(unsafe) private static var held: [String: Int32] = [:]

    static func acquire(_ directory: String) throws {
        guard held[directory] == nil else { return }
        let path = directory + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buf = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buf, 32)
            close(fd)
            let pid = String(decoding: buf[0..<max(n, 0)], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw BSQError("\(directory): in use by another trainer (pid \(pid.isEmpty ? "unknown" : pid)); wait for it to end or stop it")
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        held[directory] = fd
    }
}

extension RunConfig {
    /// The `--set` overrides that the command-line shortcuts stand for, in this order.
    public static func shortcuts(steps: Int?, batch: Int?, lr: Double?, seed: UInt64?, specaug: Bool, recompute: Bool) -> [String] {
        var s: [String] = []
        if let steps { s.append("train.steps=\(steps)") }
        if let batch { s.append("train.batch=\(batch)") }
        if let lr { s.append("train.lr=\(lr)") }
        if let seed { s.append("train.seed=\(seed)") }
        if specaug { s.append("train.specaug=true") }
        if recompute { s.append("train.recompute=true") }
        return s
    }
}
