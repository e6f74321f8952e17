import Foundation

/// The optimisation settings of `bsq-train vocoder` (`train` in the run
/// configuration stored in its checkpoints, next to the `vocoder`).
public struct VocoderTrainConfig: Codable, Sendable, Equatable {
    public var steps = 20000
    /// Crops per step, and the mel frames of each (the target is the
    /// (segment − 1)·hop samples those frames are centred on: 1 s at 101).
    public var batch = 16
    public var segment = 101
    /// Warmup then cosine; AdamW (decay on matrices only) with Vocos's betas.
    public var lr = 5e-4
    public var min_lr = 5e-5
    public var warmup = 200
    public var weight_decay = 0.01
    public var beta1 = 0.8
    public var beta2 = 0.9
    public var eps = 1e-8
    public var clip = 1.0
    public var ema = 0.999
    public var seed: UInt64 = 0
    /// Weights of the mel L1 (HiFi-GAN's 45) and of the multi-resolution STFT loss.
    public var mel_weight = 45.0
    public var stft_weight = 1.0
    public var log_every = 10
    public var val_every = 500
    public var checkpoint_every = 500
    public var keep = 3

    public init() {}

    /// Samples of each crop's target.
    public func samples(hop: Int) -> Int { (segment - 1) * hop }

    public func validate(_ v: VocoderConfig) throws {
        func need(_ ok: Bool, _ what: String) throws { if !ok { throw BSQError("train config: \(what)") } }
        try need(steps > 0, "steps must be > 0 (got \(steps))")
        try need(batch > 0 && batch <= 1024, "batch must be in 1...1024 (got \(batch))")
        let shortest = (SpectralLoss(sampleRate: v.sample_rate).minimumLength + v.hop_length - 1) / v.hop_length + 1
        try need(segment >= shortest && segment <= 100_000, "segment must be in \(shortest)...100000 frames (got \(segment))")
        try need(lr > 0 && lr.isFinite, "lr must be > 0 (got \(lr))")
        try need(min_lr >= 0 && min_lr <= lr, "min_lr must be in 0...lr (got \(min_lr))")
        try need(warmup >= 0, "warmup must be >= 0 (got \(warmup))")
        try need(weight_decay >= 0, "weight_decay must be >= 0 (got \(weight_decay))")
        try need(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "beta1 and beta2 must be in [0, 1)")
        try need(eps > 0, "eps must be > 0 (got \(eps))")
        try need(clip >= 0, "clip must be >= 0 (got \(clip))")
        try need(ema >= 0 && ema < 1, "ema must be in [0, 1) (got \(ema))")
        try need(mel_weight >= 0 && stft_weight >= 0 && mel_weight + stft_weight > 0, "mel_weight and stft_weight must be >= 0, not both 0")
        try need(log_every > 0 && val_every > 0 && checkpoint_every > 0 && keep > 0, "log_every, val_every, checkpoint_every and keep must be > 0")
    }

    public func learningRate(step: Int) -> Double {
        AdamW.learningRate(step: step, peak: lr, floor: min_lr, warmup: warmup, total: steps)
    }

    public func adamW(count: Int) -> AdamW {
        var a = AdamW(count: count)
        a.beta1 = Float(beta1); a.beta2 = Float(beta2); a.eps = Float(eps); a.weightDecay = Float(weight_decay)
        return a
    }
}

/// Adversarial training of the vocoder (`disc` in its run configuration; off
/// unless `weight` > 0): Vocos's multi-period and multi-resolution
/// discriminators (`WaveDiscriminators`), hinge losses and feature matching.
/// From step `start` on, the generator's loss gains `weight` · (its
/// adversarial and feature-matching terms) and every step begins with one
/// discriminator update (AdamW with the generator's betas and schedule, peak `lr` or `train.lr`).
public struct VocoderDiscConfig: Codable, Sendable, Equatable {
    public var weight = 0.0
    public var start = 0
    public var lr: Double?
    public var periods = [2, 3, 5, 7, 11]
    /// Channels of the multi-period discriminator's five convolutions (HiFi-GAN's).
    public var mpd_channels = [32, 128, 512, 1024, 1024]
    /// (n_fft, hop, win) of each multi-resolution sub-discriminator, and its channels (Vocos's).
    public var resolutions = [[1024, 256, 1024], [2048, 512, 2048], [512, 128, 512]]
    public var mrd_channels = 64
    /// The multi-resolution discriminator's share in both losses (Vocos's `mrd_loss_coeff`).
    public var mrd_weight = 0.1

    public init() {}

    public var enabled: Bool { weight > 0 }

    public func validate(samples: Int) throws {
        func need(_ ok: Bool, _ what: String) throws { if !ok { throw BSQError("disc config: \(what)") } }
        try need(weight >= 0 && weight.isFinite, "weight must be >= 0 (got \(weight))")
        try need(start >= 0, "start must be >= 0 (got \(start))")
        try need(lr.map { $0 > 0 && $0.isFinite } ?? true, "lr must be > 0")
        try need(mrd_weight >= 0 && mrd_weight.isFinite, "mrd_weight must be >= 0 (got \(mrd_weight))")
        try need(!periods.isEmpty && periods.count <= 16 && periods.allSatisfy { $0 >= 1 && $0 <= 64 },
                 "periods must be 1 to 16 values in 1...64 (got \(periods))")
        try need(mpd_channels.count == 5 && mpd_channels.allSatisfy { $0 >= 1 && $0 <= 4096 },
                 "mpd_channels must be 5 values in 1...4096 (got \(mpd_channels))")
        try need(!resolutions.isEmpty && resolutions.count <= 8, "resolutions must hold 1 to 8 [n_fft, hop, win] (got \(resolutions.count))")
        for r in resolutions {
            try need(r.count == 3 && r[0] >= 16 && r[0] <= 16384 && r[0] % 2 == 0 && r[1] >= 1 && r[1] <= r[0] && r[2] >= 1 && r[2] <= r[0],
                     "each resolution is [n_fft, hop, win] with an even n_fft in 16...16384, 1 <= hop <= n_fft and 1 <= win <= n_fft (got \(r))")
        }
        try need(mrd_channels >= 1 && mrd_channels <= 4096, "mrd_channels must be in 1...4096 (got \(mrd_channels))")
        if enabled {
            let shortest = WaveDiscriminators(self).minimumLength
            try need(samples >= shortest, "the crops' \(samples) samples are too short for the discriminators (at least \(shortest); raise train.segment)")
        }
    }
}

/// A vocoder run's whole configuration: `{"vocoder": {...}, "train": {...}}`,
/// resolved from a preset, a JSON file and `--set section.field=value` overrides.
public struct VocoderRunConfig: Sendable, Equatable {
    public var vocoder: VocoderConfig
    public var train: VocoderTrainConfig
    public var disc = VocoderDiscConfig()

    public static func resolve(preset: String, file: String?, overrides: [String]) throws -> VocoderRunConfig {
        guard let base = VocoderConfig.presets[preset] else { throw BSQError("--preset must be tiny or base (got \(preset))") }
        var fields: [String: [String: Any]] = ["vocoder": try ConfigJSON.dictionary(base), "train": try ConfigJSON.dictionary(VocoderTrainConfig()),
                                               "disc": try ConfigJSON.dictionary(VocoderDiscConfig())]
        try ConfigJSON.apply(file: file, overrides: overrides, to: &fields, sections: [
            ("vocoder", ConfigJSON.keys(VocoderConfig())), ("train", ConfigJSON.keys(VocoderTrainConfig())),
            ("disc", ConfigJSON.keys(VocoderDiscConfig())),
        ])
        return try decode(fields)
    }

    static func decode(_ fields: [String: [String: Any]]) throws -> VocoderRunConfig {
        guard let v = fields["vocoder"], let t = fields["train"] else { throw BSQError("run config: not a {\"vocoder\", \"train\"} object") }
        let d = fields["disc"] ?? [:]
        let c = VocoderRunConfig(vocoder: try ConfigJSON.decode(VocoderConfig.self, v, section: "vocoder"),
                                 train: try ConfigJSON.decode(VocoderTrainConfig.self, t, section: "train"),
                                 disc: try ConfigJSON.decode(VocoderDiscConfig.self, d.isEmpty ? try ConfigJSON.dictionary(VocoderDiscConfig()) : d,
                                                             section: "disc"))
        try c.validate()
        return c
    }

    public static func decode(json text: String) throws -> VocoderRunConfig {
        guard let top = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw BSQError("run config: not a JSON object")
        }
        return try decode(top.compactMapValues { $0 as? [String: Any] })
    }

    public func validate() throws {
        try vocoder.validate()
        try train.validate(vocoder)
        try disc.validate(samples: train.samples(hop: vocoder.hop_length))
    }

    /// `{"vocoder", "train"}`, and `"disc"` when the run is adversarial.
    public var json: String {
        func value<T: Encodable>(_ x: T) -> JSONValue { (try? JSONValue.parse(String(decoding: try JSONEncoder.sorted.encode(x), as: UTF8.self))) ?? .null }
        var o = JSONObject(["vocoder": (try? JSONValue.parse(vocoder.json)) ?? .null, "train": value(train)])
        if disc.enabled { o["disc"] = value(disc) }
        return JSONValue.object(o).serialized()
    }
}

/// A vocoder's weights read from or written to safetensors: the keys of
/// `VocosNetwork`, the configuration in `__metadata__["vocoder"]`; a training
/// checkpoint adds `ema.*` (then the weights it runs with) and the optimizer.
public struct VocoderCheckpoint: Sendable {
    public let config: VocoderConfig
    public let weights: [Float]
    public let name: String
    public static let format = "bsq-audio-vocoder-1"
    static let statePrefixes = ["ema.", "optimizer.", "multiperioddisc.", "multiresddisc.", "disc_optimizer."]

    public init(config: VocoderConfig, weights: [Float]) {
        self.config = config
        self.weights = weights
        name = config.name ?? "vocoder"
    }

    /// The weights a file runs with (its EMA copy when it has one), every key and shape checked.
    public init(path: String) throws {
        let file = try SafeTensors(path: path)
        let config = try file.configuration("vocoder", format: VocoderCheckpoint.format,
                                            missing: "not a vocoder (no vocoder configuration in the safetensors metadata)",
                                            decode: VocoderConfig.decode(json:))
        let layout = VocosNetwork(config).layout, known = Set(layout.slots.map(\.name))
        for e in file.entries where !known.contains(e.name) && !VocoderCheckpoint.statePrefixes.contains(where: { e.name.hasPrefix($0) }) {
            throw BSQError("\(path): unexpected tensor '\(e.name)' for this vocoder")
        }
        let ema = file.entries.contains { $0.name.hasPrefix("ema.") }
        weights = try TrainingState.read(file, layout, prefix: ema ? "ema." : "", path: path)
        self.config = config
        let base = path.split(separator: "/").last.map(String.init) ?? path
        name = config.name ?? base
    }

    /// Writes the weights (plus training state in `extra`) atomically, F32 or F16.
    public func write(to path: String, extra: [(name: String, shape: [Int], values: [Float])] = [],
                      metadata: [(String, String)] = [], half: Bool = false) throws {
        let layout = VocosNetwork(config).layout
        var all = weights
        var slots = layout.slots.map { (name: $0.name, shape: $0.shape, offset: $0.offset, count: $0.count) }
        for e in extra {
            slots.append((name: e.name, shape: e.shape, offset: all.count, count: e.values.count))
            all += e.values
        }
        try all.withUnsafeBufferPointer { w in
            let tensors = slots.map { s in (name: s.name, shape: s.shape, values: UnsafeBufferPointer(rebasing: w[s.offset..<(s.offset + s.count)])) }
            try SafeTensors.write(to: path, metadata: [("format", VocoderCheckpoint.format), ("vocoder", config.json)] + metadata,
                                  tensors: tensors, half: half)
        }
    }

    public func renamed(_ newName: String) -> VocoderCheckpoint {
        var c = config
        c.name = newName
        return VocoderCheckpoint(config: c, weights: weights)
    }

    /// Whether a safetensors file holds a vocoder rather than a tokenizer.
    public static func isVocoder(path: String) -> Bool { (try? SafeTensors(path: path))?.metadata["vocoder"] != nil }
}

/// A vocoder run's state: configuration, weights, their EMA, AdamW, the step.
public final class VocoderState {
    public internal(set) var run: VocoderRunConfig
    public let layout: ParameterLayout
    public var params: [Float], ema: [Float]
    public var optimizer: AdamW
    public var step = 0
    let decay: [Bool]
    /// The tokenizer of a `--codec` run: `{"path", "name", "sha256"}` as JSON; saved as `codec`.
    public var codec: String?
    /// The discriminators of an adversarial run (`disc.weight` > 0).
    public var discriminator: DiscriminatorState?

    public init(run: VocoderRunConfig) {
        self.run = run
        layout = VocosNetwork(run.vocoder).layout
        params = layout.initialValues(seed: run.train.seed)
        ema = params
        optimizer = run.train.adamW(count: layout.count)
        decay = TrainingState.decayMask(layout)
        if run.disc.enabled { discriminator = VocoderState.freshDiscriminator(run) }
    }

    static func freshDiscriminator(_ run: VocoderRunConfig) -> DiscriminatorState {
        let d = WaveDiscriminators(run.disc)
        return DiscriminatorState(layout: d.layout, params: d.initialValues(seed: run.train.seed ^ 0x5EED_D15C),
                                  optimizer: run.train.adamW(count: d.layout.count))
    }

    /// The discriminators' learning rate at `step`: `disc.lr` (or `train.lr`) with the generator's schedule.
    public func discriminatorLearningRate(step: Int) -> Double {
        let t = run.train
        return DiscriminatorState.learningRate(step: step, peak: run.disc.lr ?? t.lr, lr: t.lr, minLR: t.min_lr, warmup: t.warmup, total: t.steps)
    }

    /// Loads a checkpoint written by `save`; `steps` moves the end of the run.
    public init(resume path: String, steps: Int? = nil) throws {
        let file = try SafeTensors(path: path)
        guard let text = file.metadata["run"], let s = file.metadata["step"].flatMap({ Int($0) }),
              let a = file.metadata["optimizer_step"].flatMap({ Int($0) }), file.metadata["vocoder"] != nil else {
            throw BSQError("\(path): not a vocoder training checkpoint (no run configuration, step or optimizer state)")
        }
        do { run = try VocoderRunConfig.decode(json: text) } catch let e as BSQError { throw BSQError("\(path): \(e.message)") }
        if let steps { run.train.steps = steps; try run.validate() }
        layout = VocosNetwork(run.vocoder).layout
        params = try TrainingState.read(file, layout, prefix: "", path: path)
        ema = try TrainingState.read(file, layout, prefix: "ema.", path: path)
        optimizer = run.train.adamW(count: layout.count)
        optimizer.m = try TrainingState.read(file, layout, prefix: "optimizer.exp_avg.", path: path)
        optimizer.v = try TrainingState.read(file, layout, prefix: "optimizer.exp_avg_sq.", path: path)
        optimizer.step = a
        step = s
        decay = TrainingState.decayMask(layout)
        codec = file.metadata["codec"]
        if run.disc.enabled {
            let d = VocoderState.freshDiscriminator(run)
            try d.load(file, path: path)
            discriminator = d
        }
        guard step < run.train.steps else {
            throw BSQError("\(path): the run is at step \(step) of \(run.train.steps) already (raise --steps to go on)")
        }
    }

    /// Clip, AdamW at `lr`, EMA; returns the gradient norm before clipping.
    @discardableResult
    public func apply(grads: UnsafeMutablePointer<Float>, lr: Double) -> Float {
        optimizer.step(&params, ema: &ema, grads: grads, decay: decay, lr: lr, clip: run.train.clip, emaDecay: run.train.ema)
    }

    public func save(to path: String) throws {
        let disc = discriminator?.saved
        try VocoderCheckpoint(config: run.vocoder, weights: params).write(to: path, extra: optimizer.stateTensors(ema: ema, layout: layout) + (disc?.tensors ?? []),
                                                                          metadata: [
            ("run", run.json), ("step", String(step)), ("optimizer_step", String(optimizer.step)),
        ] + (codec.map { [("codec", $0)] } ?? []) + (disc?.metadata ?? []))
    }
}
