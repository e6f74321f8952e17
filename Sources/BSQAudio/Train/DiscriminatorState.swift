import Foundation

/// The discriminator's side of a run's state: its weights (BatchNorm running
/// statistics included) and its own AdamW (the trainer's betas and weight
/// decay, peak `disc.lr`, the same warmup and cosine), saved in the run's
/// checkpoints under its keys (`discriminator.network.*` for the tokenizer's
/// PatchGAN, `multiperioddisc.*` / `multiresddisc.*` for the vocoder's) and
/// `disc_optimizer.exp_avg.*` / `disc_optimizer.exp_avg_sq.*`; a model
/// export leaves them out.
public final class DiscriminatorState {
    public let layout: ParameterLayout
    public var params: [Float]
    public var optimizer: AdamW
    let decay: [Bool]

    public init(layout: ParameterLayout, params: [Float], optimizer: AdamW) {
        self.layout = layout
        self.params = params
        self.optimizer = optimizer
        decay = TrainingState.decayMask(layout)
    }

    /// A fresh discriminator for `run`, seeded from `train.seed`.
    public convenience init(run: RunConfig) {
        let layout = Discriminator(ndf: run.disc.ndf, layers: run.disc.layers).layout
        self.init(layout: layout, params: layout.initialValues(seed: run.train.seed ^ 0x5EED_D15C),
                  optimizer: TrainingState.adamW(run.train, count: layout.count))
    }

    /// The state saved in `file` (`path` names it in errors).
    convenience init(run: RunConfig, file: SafeTensors, path: String) throws {
        self.init(run: run)
        try load(file, path: path)
    }

    /// Replaces the weights and the optimizer's state with those saved in `file`.
    func load(_ file: SafeTensors, path: String) throws {
        guard let text = file.metadata["disc_optimizer_step"], let step = Int(text) else {
            throw BSQError("\(path): no discriminator state, but the run trains one")
        }
        params = try TrainingState.read(file, layout, prefix: "", path: path)
        optimizer.m = try TrainingState.read(file, layout, prefix: "disc_optimizer.exp_avg.", path: path)
        optimizer.v = try TrainingState.read(file, layout, prefix: "disc_optimizer.exp_avg_sq.", path: path)
        optimizer.step = step
    }

    /// The learning rate of `step` for `run`: `disc.lr` (or `train.lr`) with the trainer's schedule.
    static func learningRate(_ run: RunConfig, step: Int) -> Double {
        let t = run.train
        return learningRate(step: step, peak: run.disc.lr ?? t.lr, lr: t.lr, minLR: t.min_lr, warmup: t.warmup, total: t.steps)
    }

    /// A discriminator's learning rate: the generator's warmup and cosine
    /// (peak `lr`, floor `minLR`) scaled to the peak `peak`.
    static func learningRate(step: Int, peak: Double, lr: Double, minLR: Double, warmup: Int, total: Int) -> Double {
        AdamW.learningRate(step: step, peak: peak, floor: minLR * peak / lr, warmup: warmup, total: total)
    }

    /// Clip (`train.clip`) and one AdamW update from a discriminator step's gradients.
    func apply(grads: UnsafeMutablePointer<Float>, run: RunConfig, step: Int) {
        apply(grads: grads, clip: run.train.clip, lr: DiscriminatorState.learningRate(run, step: step))
    }

    /// Clip at `clip` (0: none) and one AdamW update at `lr`.
    public func apply(grads: UnsafeMutablePointer<Float>, clip: Double, lr: Double) {
        if clip > 0 { AdamW.clip(grads, count: layout.count, maxNorm: Float(clip)) }
        params.withUnsafeMutableBufferPointer { p in
            optimizer.update(p.baseAddress!, grads: grads, decay: decay, lr: Float(lr))
        }
    }

    /// The tensors and metadata a checkpoint holds for it.
    var saved: (tensors: [(name: String, shape: [Int], values: [Float])], metadata: [(String, String)]) {
        var out: [(name: String, shape: [Int], values: [Float])] = []
        for (prefix, values) in [("", params), ("disc_optimizer.exp_avg.", optimizer.m), ("disc_optimizer.exp_avg_sq.", optimizer.v)] {
            for s in layout.slots { out.append((prefix + s.name, s.shape, Array(values[s.offset..<(s.offset + s.count)]))) }
        }
        return (out, [("disc_optimizer_step", String(optimizer.step))])
    }
}
