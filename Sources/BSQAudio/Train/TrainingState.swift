import Foundation

/// Everything a run needs to continue: the resolved configuration, the
/// weights (BatchNorm running statistics included), their EMA, the AdamW
/// moments and the step. Saved as one safetensors checkpoint: the weights
/// under the keys of docs/model.md, `ema.*`, `optimizer.exp_avg.*`, `optimizer.exp_avg_sq.*`,
/// and in `__metadata__` the model `config`, the `run` configuration and the `step`.
/// The data order needs no state of its own: it is a function of seed and step.
public final class TrainingState {
    /// Only `train.steps` changes after the start (`resuming(_:steps:)`).
    public internal(set) var run: RunConfig
    public let layout: ParameterLayout
    public var params: [Float]
    public var ema: [Float]
    public var optimizer: AdamW
    /// Steps done.
    public var step: Int
    /// Which elements take weight decay: tensors of two or more dimensions.
    public let decay: [Bool]
    /// Where a fine-tuned run started (`--init`): `{"path", "name", "sha256"}` as JSON; saved as `init`.
    public var origin: String?
    /// The discriminator of an adversarial run (`disc.weight` > 0).
    public var discriminator: DiscriminatorState?

    /// A fresh run: weights initialised from `run.train.seed` (or taken from `weights`).
    public init(run: RunConfig, weights: [Float]? = nil) {
        self.run = run
        layout = ParameterLayout(run.model)
        params = weights ?? Checkpoint.initialized(run.model, seed: run.train.seed).weights
        ema = params
        optimizer = TrainingState.adamW(run.train, count: layout.count)
        discriminator = run.disc.enabled ? DiscriminatorState(run: run) : nil
        step = 0
        decay = TrainingState.decayMask(layout)
    }

    /// Loads a checkpoint written by `save`.
    public init(resume path: String) throws {
        let file = try SafeTensors(path: path)
        guard let text = file.metadata["run"], let stepText = file.metadata["step"], let step = Int(stepText),
              let adamText = file.metadata["optimizer_step"], let adamStep = Int(adamText) else {
            throw BSQError("\(path): not a training checkpoint (no run configuration, step or optimizer state)")
        }
        let run: RunConfig
        do { run = try RunConfig.decode(json: text) } catch let e as BSQError { throw BSQError("\(path): \(e.message)") }
        let layout = ParameterLayout(run.model)
        func read(_ prefix: String) throws -> [Float] { try TrainingState.read(file, layout, prefix: prefix, path: path) }
        var optimizer = TrainingState.adamW(run.train, count: layout.count)
        optimizer.m = try read("optimizer.exp_avg.")
        optimizer.v = try read("optimizer.exp_avg_sq.")
        optimizer.step = adamStep
        params = try read("")
        ema = try read("ema.")
        self.optimizer = optimizer
        self.run = run
        self.layout = layout
        self.step = step
        decay = TrainingState.decayMask(layout)
        origin = file.metadata["init"]
        discriminator = run.disc.enabled ? try DiscriminatorState(run: run, file: file, path: path) : nil
    }

    /// The tensors of `layout` under `prefix` in `file`, checked.
    static func read(_ file: SafeTensors, _ layout: ParameterLayout, prefix: String, path: String) throws -> [Float] {
        var out = [Float](repeating: 0, count: layout.count)
        try out.withUnsafeMutableBufferPointer { o in
            for s in layout.slots {
                guard let e = file.entry(prefix + s.name) else { throw BSQError("\(path): missing tensor '\(prefix + s.name)'") }
                guard e.shape == s.shape else { throw BSQError("\(path): tensor '\(prefix + s.name)' has shape \(e.shape), expected \(s.shape)") }
                try file.floats(e, into: o.baseAddress! + s.offset)
            }
        }
        return out
    }

    /// A fresh run starting from the weights of `start` (read from `path`);
    /// `run` comes from `configuration(preset:file:overrides:start:)`, which checked that they fit.
    public convenience init(run: RunConfig, initFrom start: Checkpoint, path: String) {
        self.init(run: run, weights: start.weights)
        var o = JSONObject()
        o["path"] = .string(path); o["name"] = .string(start.name); o["sha256"] = .string(start.sha256)
        origin = JSONValue.object(o).serialized()
    }

    static func adamW(_ t: TrainConfig, count: Int) -> AdamW {
        var a = AdamW(count: count)
        a.beta1 = Float(t.beta1); a.beta2 = Float(t.beta2); a.eps = Float(t.eps); a.weightDecay = Float(t.weight_decay)
        return a
    }

    static func decayMask(_ layout: ParameterLayout) -> [Bool] {
        var mask = [Bool](repeating: false, count: layout.count)
        for s in layout.slots where s.shape.count >= 2 { for i in s.offset..<(s.offset + s.count) { mask[i] = true } }
        return mask
    }

    /// One optimizer step from the gradients of a training step: clip their
    /// global norm to `train.clip` (0: no clipping; `grads` scaled in place),
    /// AdamW at `lr`, then the EMA of the weights. Returns the norm before clipping.
    @discardableResult
    public func apply(grads: UnsafeMutablePointer<Float>, lr: Double) -> Float {
        optimizer.step(&params, ema: &ema, grads: grads, decay: decay, lr: lr, clip: run.train.clip, emaDecay: run.train.ema)
    }

    /// Writes the whole state atomically.
    public func save(to path: String) throws {
        let extra = optimizer.stateTensors(ema: ema, layout: layout)
        let disc = discriminator?.saved
        try Checkpoint(config: run.model, weights: params).write(to: path, extra: extra + (disc?.tensors ?? []), metadata: [
            ("run", run.json), ("step", String(step)), ("optimizer_step", String(optimizer.step)),
        ] + (origin.map { [("init", $0)] } ?? []) + (disc?.metadata ?? []))
    }
}
