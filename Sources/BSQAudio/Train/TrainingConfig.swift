import Foundation

/// The optimisation settings of a training run (`train` in the resolved
/// configuration stored in every checkpoint, next to the model's `config`).
public struct TrainConfig: Codable, Sendable, Equatable {
    /// Optimizer steps of the whole run (the cosine ends here).
    public var steps = 20000
    /// Chunks of `frames` mel rows per step.
    public var batch = 8
    /// Peak learning rate, reached after `warmup` steps, and the cosine's floor.
    public var lr = 3e-4
    public var min_lr = 3e-5
    public var warmup = 500
    /// AdamW (PyTorch's torch.optim.AdamW); decay applies to matrices only.
    public var weight_decay = 1e-4
    public var beta1 = 0.9
    public var beta2 = 0.99
    public var eps = 1e-8
    /// Global gradient-norm clipping (0: off).
    public var clip = 1.0
    /// EMA decay of the weights saved as `ema.*` (0: EMA equals the weights).
    public var ema = 0.999
    /// λ_q and its ramp (docs/model.md): λ·(r + m·(1 − r)), r = min(step, ramp)/ramp.
    public var lambda_q = 0.1
    public var ramp_steps = 2000
    public var ramp_multiplier = 3.0
    /// L_q = β·commit + ζ·(γ0·H_ps − γ·H_cb)/inv_temp.
    public var commit_beta = 0.25
    public var gamma0 = 1.0
    public var gamma = 1.0
    public var zeta = 1.0
    public var inv_temp = 1.0
    /// Seed of the initialisation, the data order, the crops and the masks.
    public var seed: UInt64 = 0
    /// On-the-fly SpecAugment of the training crops (input and target alike):
    /// masks per crop and their widest width as a fraction of the axis.
    public var specaug = false
    public var time_masks = 2
    public var freq_masks = 2
    public var max_time_mask = 0.1
    public var max_freq_mask = 0.1
    /// Every how many steps to log, validate and checkpoint, and how many checkpoints to keep.
    public var log_every = 10
    public var val_every = 500
    public var checkpoint_every = 1000
    public var keep = 3
    /// Gradient checkpointing: keep block inputs only, recompute in the backward.
    public var recompute = false
    /// Masked pre-training (SimMIM style): the share of each sample's patches
    /// whose embeddings are replaced by `encoder.mask_token` (absent: 0), and
    /// whether the L1 is over all patches or the masked ones (`all`, `masked`).
    public var mask_ratio: Double?
    public var mask_loss: String?

    public var maskRatio: Double { mask_ratio ?? 0 }
    public var maskedLossOnly: Bool { mask_loss == "masked" }

    public init() {}

    public func validate() throws {
        func need(_ ok: Bool, _ what: String) throws { if !ok { throw BSQError("train config: \(what)") } }
        try need(steps > 0, "steps must be > 0 (got \(steps))")
        try need(batch > 0 && batch <= 4096, "batch must be in 1...4096 (got \(batch))")
        try need(lr > 0 && lr.isFinite, "lr must be > 0 (got \(lr))")
        try need(min_lr >= 0 && min_lr <= lr, "min_lr must be in 0...lr (got \(min_lr))")
        try need(warmup >= 0, "warmup must be >= 0 (got \(warmup))")
        try need(weight_decay >= 0, "weight_decay must be >= 0 (got \(weight_decay))")
        try need(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1) (got \(beta1))")
        try need(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1) (got \(beta2))")
        try need(eps > 0, "eps must be > 0 (got \(eps))")
        try need(clip >= 0, "clip must be >= 0 (got \(clip))")
        try need(ema >= 0 && ema < 1, "ema must be in [0, 1) (got \(ema))")
        try need(lambda_q >= 0, "lambda_q must be >= 0 (got \(lambda_q))")
        try need(ramp_steps >= 0, "ramp_steps must be >= 0 (got \(ramp_steps))")
        try need(inv_temp > 0, "inv_temp must be > 0 (got \(inv_temp))")
        try need(time_masks >= 0 && freq_masks >= 0, "time_masks and freq_masks must be >= 0")
        try need(max_time_mask >= 0 && max_time_mask <= 1, "max_time_mask must be in [0, 1] (got \(max_time_mask))")
        try need(max_freq_mask >= 0 && max_freq_mask <= 1, "max_freq_mask must be in [0, 1] (got \(max_freq_mask))")
        try need(log_every > 0, "log_every must be > 0 (got \(log_every))")
        try need(val_every > 0, "val_every must be > 0 (got \(val_every))")
        try need(checkpoint_every > 0, "checkpoint_every must be > 0 (got \(checkpoint_every))")
        try need(keep > 0, "keep must be > 0 (got \(keep))")
        try need(maskRatio >= 0 && maskRatio < 1, "mask_ratio must be in [0, 1) (got \(maskRatio))")
        try need(mask_loss.map { ["all", "masked"].contains($0) } ?? true, "mask_loss must be all or masked (got \(mask_loss ?? ""))")
    }

    /// The loss of docs/model.md with this run's coefficients.
    public func loss(_ model: ModelConfig) -> BSQLoss {
        var l = BSQLoss(model)
        l.lambda = lambda_q; l.rampSteps = ramp_steps; l.rampMultiplier = ramp_multiplier
        l.beta = commit_beta; l.gamma0 = gamma0; l.gamma = gamma; l.zeta = zeta; l.invTemp = inv_temp
        return l
    }

    /// The learning rate of `step` (0-based): linear warmup, then cosine to `min_lr`.
    public func learningRate(step: Int) -> Double {
        AdamW.learningRate(step: step, peak: lr, floor: min_lr, warmup: warmup, total: steps)
    }

    public var specAugment: SpecAugment? {
        guard specaug else { return nil }
        return SpecAugment(timeMasks: time_masks, freqMasks: freq_masks, timeWidth: .fraction(max_time_mask),
                           freqWidth: .fraction(max_freq_mask))
    }
}

/// Adversarial training with the PatchGAN discriminator (`disc` in the run
/// configuration; off unless `weight` > 0). From step `start` on, the
/// generator's loss gains d_weight·g_loss (d_weight adaptive, from the
/// gradients at `decoder.conv_out.weight`, times `weight`; or `weight` alone),
/// and each step ends with one discriminator step on the same batch.
public struct DiscConfig: Codable, Sendable, Equatable {
    public var start = 0
    public var weight = 0.0
    public var ndf = 64
    public var layers = 3
    /// Peak learning rate of the discriminator's AdamW (nil: `train.lr`), same warmup and cosine.
    public var lr: Double?
    public var adaptive = true

    public init() {}

    public var enabled: Bool { weight > 0 }

    public func validate(_ model: ModelConfig) throws {
        func need(_ ok: Bool, _ what: String) throws { if !ok { throw BSQError("disc config: \(what)") } }
        try need(start >= 0, "start must be >= 0 (got \(start))")
        try need(weight >= 0 && weight.isFinite, "weight must be >= 0 (got \(weight))")
        try need(ndf > 0 && ndf <= 1024, "ndf must be in 1...1024 (got \(ndf))")
        try need(layers >= 1 && layers <= 8, "layers must be in 1...8 (got \(layers))")
        try need(lr.map { $0 > 0 && $0.isFinite } ?? true, "lr must be > 0")
        if enabled {
            let shapes = Discriminator(ndf: 1, layers: layers).shapes(height: model.frames, width: model.n_mels)
            try need(shapes.allSatisfy { $0.outHeight > 0 && $0.outWidth > 0 },
                     "\(layers) layers need chunks of at least \(1 << (layers + 2)) frames and mel bands (the model has \(model.frames) × \(model.n_mels))")
        }
    }
}

/// The whole configuration of a run: the model (the `config` of docs/model.md) and the
/// optimisation (`TrainConfig`), resolved from a preset, an optional JSON file
/// `{"model": {...}, "train": {...}}` and single-field overrides
/// (`model.width=256`, `train.lr=1e-3`), in that order. Unknown fields,
/// wrong types and values that do not fit together are errors naming the field.
public struct RunConfig: Sendable, Equatable {
    public var model: ModelConfig
    public var train: TrainConfig
    public var disc: DiscConfig

    public init(model: ModelConfig, train: TrainConfig, disc: DiscConfig = DiscConfig()) {
        self.model = model
        self.train = train
        self.disc = disc
    }

    /// `base` (the model of an `--init` file) takes the place of the preset.
    public static func resolve(preset: String, file: String?, overrides: [String], base: ModelConfig? = nil) throws -> RunConfig {
        guard let base = base ?? ModelConfig.presets[preset] else {
            throw BSQError("--preset must be tiny, small or base (got \(preset))")
        }
        var fields: [String: [String: Any]] = ["model": try dictionary(base), "train": try dictionary(TrainConfig()),
                                               "disc": try dictionary(DiscConfig())]
        try ConfigJSON.apply(file: file, overrides: overrides, to: &fields, sections: [
            ("model", ConfigJSON.keys(ModelConfig())), ("train", ConfigJSON.keys(TrainConfig())), ("disc", ConfigJSON.keys(DiscConfig())),
        ])
        let model = fields["model"]!, train = fields["train"]!, disc = fields["disc"]!
        let c = RunConfig(model: try decode(ModelConfig.self, model, section: "model"),
                          train: try decode(TrainConfig.self, train, section: "train"),
                          disc: try decode(DiscConfig.self, disc, section: "disc"))
        try c.validate()
        return c
    }

    public func validate() throws {
        try model.validate()
        try train.validate()
        try disc.validate(model)
        if train.maskRatio > 0 && !model.hasMaskToken {
            throw BSQError("train config: mask_ratio needs a model with a mask token (model.mask_token=true)")
        }
    }

    /// `{"model": {...}, "train": {...}}`, as stored in checkpoints under `run`.
    public var json: String {
        let m = (try? JSONValue.parse(model.json)) ?? .null
        let t = (try? JSONValue.parse(String(decoding: try JSONEncoder.sorted.encode(train), as: UTF8.self))) ?? .null
        var o = JSONObject(["model": m, "train": t])
        if disc.enabled { o["disc"] = (try? JSONValue.parse(String(decoding: try JSONEncoder.sorted.encode(disc), as: UTF8.self))) ?? .null }
        return JSONValue.object(o).serialized()
    }

    public static func decode(json text: String) throws -> RunConfig {
        guard let top = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let m = top["model"] as? [String: Any], let t = top["train"] as? [String: Any] else {
            throw BSQError("run config: not a {\"model\", \"train\"} object")
        }
        let d = top["disc"] as? [String: Any] ?? [:]
        let c = RunConfig(model: try decode(ModelConfig.self, m, section: "model"), train: try decode(TrainConfig.self, t, section: "train"),
                          disc: try decode(DiscConfig.self, d.isEmpty ? try dictionary(DiscConfig()) : d, section: "disc"))
        try c.validate()
        return c
    }

    private static func dictionary<T: Encodable>(_ value: T) throws -> [String: Any] { try ConfigJSON.dictionary(value) }

    private static func decode<T: Decodable>(_ type: T.Type, _ fields: [String: Any], section: String) throws -> T {
        try ConfigJSON.decode(type, fields, section: section)
    }
}

/// The one way configurations are read from JSON (checkpoint metadata,
/// `--config` files, `--set` values): a JSON object's fields decoded into a
/// configuration type, errors naming `section.field`.
enum ConfigJSON {
    /// The fields of a configuration type, optional ones included.
    static func keys<T>(_ value: T) -> Set<String> { Set(Mirror(reflecting: value).children.compactMap(\.label)) }

    /// Sets the fields that a JSON file `{"section": {...}}` and then the
    /// overrides `section.field=value` give, in that order; unknown sections
    /// and fields are errors naming them and where they came from.
    static func apply(file: String?, overrides: [String], to fields: inout [String: [String: Any]],
                      sections: [(name: String, keys: Set<String>)]) throws {
        func set(_ section: String, _ key: String, _ value: Any, from origin: String) throws {
            guard let keys = sections.first(where: { $0.name == section })?.keys else {
                let names = sections.map(\.name)
                let expected = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
                throw BSQError("\(origin): unknown section '\(section)' (expected \(expected))")
            }
            guard keys.contains(key) else { throw BSQError("\(origin): unknown field '\(section).\(key)'") }
            fields[section, default: [:]][key] = value
        }
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw BSQError("\(file): \(String(cString: strerror(errno)))")
            }
            guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw BSQError("\(file): not a JSON object")
            }
            for (section, body) in top.sorted(by: { $0.key < $1.key }) {
                guard let f = body as? [String: Any] else {
                    throw BSQError("\(file): '\(section)' must be an object")
                }
                for (k, v) in f.sorted(by: { $0.key < $1.key }) { try set(section, k, v, from: file) }
            }
        }
        for o in overrides {
            guard let eq = o.firstIndex(of: "="), let dot = o[..<eq].firstIndex(of: ".") else {
                throw BSQError("--set: expected section.field=value (got '\(o)')")
            }
            let section = String(o[..<dot]), key = String(o[o.index(after: dot)..<eq]), text = String(o[o.index(after: eq)...])
            let value = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) ?? text
            try set(section, key, value, from: "--set")
        }
    }

    /// A configuration value as a JSON object's fields.
    static func dictionary<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try JSONEncoder.sorted.encode(value)) as! [String: Any]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ fields: [String: Any], section: String) throws -> T {
        let data = try JSONSerialization.data(withJSONObject: fields)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.typeMismatch(_, let ctx) {
            throw BSQError("\(section).\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): wrong type")
        } catch DecodingError.dataCorrupted(let ctx) {
            throw BSQError("\(section).\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): invalid value")
        } catch DecodingError.keyNotFound(let key, _) {
            throw BSQError("\(section).\(key.stringValue): missing")
        } catch DecodingError.valueNotFound(_, let ctx) {
            throw BSQError("\(section).\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): missing")
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }
}
