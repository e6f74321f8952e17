import Foundation

/// A model's configuration and weights, read from or written to a
/// safetensors checkpoint (MODEL.md, "Checkpoint").
public struct Checkpoint: Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    /// The weights the model runs with (the EMA copy when the file has one).
    public var weights: [Float]
    /// The checkpoint's name (config name, else the file name) and the SHA-256 of its bytes.
    public let name: String
    public let usedEMA: Bool
    /// SHA-256 of the checkpoint file ("" for a model made in memory).
    public let sha256: String

    /// Key prefixes of training state that may share the file with the weights.
    public static let statePrefixes = ["ema.", "optimizer."]

    public init(config: ModelConfig, weights: [Float], name: String? = nil) {
        self.config = config
        layout = ParameterLayout(config)
        precondition(weights.count == layout.count)
        self.weights = weights
        self.name = name ?? config.name ?? "model"
        sha256 = ""
        usedEMA = false
    }

    /// Loads a checkpoint, checking every key and shape against its config.
    public init(path: String) throws {
        let file = try SafeTensors(path: path)
        guard let configText = file.metadata["config"] else {
            throw BSQError("\(path): no model config in the safetensors metadata")
        }
        let config: ModelConfig
        do { config = try ModelConfig.decode(json: configText) } catch let e as BSQError { throw BSQError("\(path): \(e.message)") }
        let layout = ParameterLayout(config)
        let useEMA = file.entries.contains { $0.name.hasPrefix("ema.") }
        var known = Set(layout.slots.map(\.name))
        for e in file.entries where !known.contains(e.name) && !Checkpoint.statePrefixes.contains(where: { e.name.hasPrefix($0) }) {
            throw BSQError("\(path): unexpected tensor '\(e.name)' for this config")
        }
        var weights = [Float](repeating: 0, count: layout.count)
        try weights.withUnsafeMutableBufferPointer { w in
            for slot in layout.slots {
                let key = useEMA ? "ema." + slot.name : slot.name
                guard let e = file.entry(key) else { throw BSQError("\(path): missing tensor '\(key)'") }
                guard e.shape == slot.shape else {
                    throw BSQError("\(path): tensor '\(key)' has shape \(e.shape), expected \(slot.shape)")
                }
                try file.floats(e, into: w.baseAddress! + slot.offset)
                known.remove(slot.name)
            }
        }
        self.config = config
        self.layout = layout
        self.weights = weights
        usedEMA = useEMA
        let base = path.split(separator: "/").last.map(String.init) ?? path
        name = config.name ?? base
        sha256 = file.sha256
    }

    /// Writes the weights (plus any extra tensors, e.g. training state) atomically.
    public func write(to path: String, extra: [(name: String, shape: [Int], values: [Float])] = [],
                      metadata: [(String, String)] = []) throws {
        var all = weights
        var slots = layout.slots.map { (name: $0.name, shape: $0.shape, offset: $0.offset, count: $0.count) }
        for e in extra {
            slots.append((name: e.name, shape: e.shape, offset: all.count, count: e.values.count))
            all += e.values
        }
        try all.withUnsafeBufferPointer { w in
            let tensors = slots.map { s in
                (name: s.name, shape: s.shape, values: UnsafeBufferPointer(rebasing: w[s.offset..<(s.offset + s.count)]))
            }
            try SafeTensors.write(to: path, metadata: [("format", "bsq-audio-1"), ("config", config.json)] + metadata, tensors: tensors)
        }
    }

    /// A fresh model: linear weights, depthwise kernels and positional
    /// embeddings normal with std 0.02, biases 0, norm weights 1,
    /// BatchNorm running mean 0 and variance 1.
    public static func initialized(_ config: ModelConfig, seed: UInt64) -> Checkpoint {
        let layout = ParameterLayout(config)
        var w = [Float](repeating: 0, count: layout.count)
        var rng = SplitMix64(seed: seed)
        for s in layout.slots {
            let name = s.name
            let isNorm = name.contains("ln_") || name.contains(".norm.") || name.contains("batch_norm")
            if name.hasSuffix("running_var") || (isNorm && name.hasSuffix(".weight")) {
                for i in 0..<s.count { w[s.offset + i] = 1 }
            } else if name.hasSuffix(".bias") || name.hasSuffix("_bias") || name.hasSuffix("running_mean") || isNorm {
                continue
            } else {
                for i in 0..<s.count { w[s.offset + i] = Float(0.02 * rng.normal()) }
            }
        }
        return Checkpoint(config: config, weights: w)
    }
}
