import Foundation

/// Starting a run as `bsq-train vocoder` does: a new run (from a preset or,
/// fine-tuning, from a vocoder), or a resumed one; its tokenizer (`--codec`),
/// its data and its folder.
extension VocoderRunConfig {
    /// A new run's configuration: the preset, then `file` and `overrides`. With
    /// `base` (the vocoder of an `--init` file) the network is that one; the
    /// file and overrides may still rename it, nothing else.
    public static func resolve(preset: String, file: String?, overrides: [String], base: VocoderConfig?) throws -> VocoderRunConfig {
        var run = try resolve(preset: preset, file: file, overrides: overrides)
        guard let base else { return run }
        let presetConfig = VocoderConfig.presets[preset]!
        var asked = run.vocoder, plain = presetConfig
        asked.name = nil; plain.name = nil
        guard asked == plain else { throw BSQError("--init takes the vocoder from its file; only vocoder.name may be set") }
        let named = run.vocoder.name
        run.vocoder = base
        if named != presetConfig.name { run.vocoder.name = named }
        try run.validate()
        return run
    }
}

extension VocoderState {
    /// The run's tokenizer: `path` (a new run's `--codec`), else the one a
    /// resumed run recorded. It is recorded as an absolute path with its
    /// SHA-256, so that `--resume` finds it from any folder and refuses another file.
    public func codecModel(path given: String?) throws -> Checkpoint? {
        let recorded = codec.flatMap { try? JSONValue.parse($0) }
        guard let path = (given ?? recorded?["path"]?.string).map({ URL(fileURLWithPath: $0).standardizedFileURL.path }) else { return nil }
        let model = try Checkpoint(path: path)
        if let sha = recorded?["sha256"]?.string, sha != model.sha256 {
            throw BSQError("--codec \(path): not the tokenizer the run started with (its SHA-256 differs)")
        }
        var o = JSONObject()
        o["path"] = .string(path); o["name"] = .string(model.name); o["sha256"] = .string(model.sha256)
        codec = JSONValue.object(o).serialized()
        return model
    }
}

extension VocoderTrainer {
    /// Reads the training audio (`operands` and `lists`, as `mel` takes them)
    /// and the held-out audio `val` for `state`'s run, through the tokenizer
    /// `codec` when given, then makes the run folder.
    public convenience init(state: VocoderState, operands: [String], lists: [String], root: String?, val: [String], codec: Checkpoint?,
                            directory: String, log: String?, threads: Int) throws {
        let v = state.run.vocoder, t = state.run.train
        var audio = try AudioInputs.expand(operands)
        for l in lists { audio += try AudioInputs.fromList(l, root: root) }
        for a in audio { _ = try SoundFile(path: a.path) }
        let training = try VocoderData(examples: audio, config: v, segment: t.segment, seed: t.seed, codec: codec)
        let heldOut = val.isEmpty ? nil : try VocoderData(examples: try AudioInputs.expand(val), config: v, segment: t.segment, seed: 0, codec: codec)
        try Trainer.makeFolder(directory)
        self.init(state: state, data: training, validation: heldOut, directory: directory, log: log, threads: threads)
    }
}
