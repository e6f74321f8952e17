import Foundation

/// A model's configuration and weights, read from or written to a
/// safetensors checkpoint (docs/model.md, "Checkpoint").
public struct Checkpoint: Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    /// The weights the model runs with (the EMA copy when the file has one),
    /// in the layout's order. A checkpoint read from an all-F32 file keeps its
    /// tensors in the mapped file and makes this array only when asked.
    public var weights: [Float] {
        get { owned ?? mapped!.copy(layout) }
        set { owned = newValue; mapped = nil }
    }
    private var owned: [Float]?
    private var mapped: MappedTensors?
    /// The checkpoint's name (config name, else the file name) and the SHA-256 of its bytes.
    public let name: String
    public let usedEMA: Bool
    /// SHA-256 of the checkpoint file ("" for a model made in memory),
    /// computed in the background from the moment the file is loaded.
    public var sha256: String { digest?.hex ?? "" }
    private let digest: BackgroundDigest?

    /// Key prefixes of training state that may share the file with the weights.
    public static let statePrefixes = ["ema.", "optimizer.", "discriminator.", "disc_optimizer."]

    public init(config: ModelConfig, weights: [Float], name: String? = nil) {
        self.config = config
        layout = ParameterLayout(config)
        precondition(weights.count == layout.count)
        owned = weights
        mapped = nil
        self.name = name ?? config.name ?? "model"
        digest = nil
        usedEMA = false
    }

    /// The same weights under another configuration name.
    public func renamed(_ newName: String) -> Checkpoint {
        var c = config
        c.name = newName
        return Checkpoint(config: c, weights: weights, name: newName)
    }

    /// Loads a checkpoint, checking every key and shape against its config.
    public init(path: String) throws {
        let file = try SafeTensors(path: path)
        digest = file.backgroundSHA256()
        let config = try file.configuration("config", format: "bsq-audio-1", missing: "no model config in the safetensors metadata",
                                            decode: ModelConfig.decode(json:))
        let layout = ParameterLayout(config)
        let useEMA = file.entries.contains { $0.name.hasPrefix("ema.") }
        let known = Set(layout.slots.map(\.name))
        for e in file.entries where !known.contains(e.name) && !Checkpoint.statePrefixes.contains(where: { e.name.hasPrefix($0) }) {
            throw BSQError("\(path): unexpected tensor '\(e.name)' for this config")
        }
        var entries: [SafeTensors.Entry] = []
        for slot in layout.slots {
            let key = useEMA ? "ema." + slot.name : slot.name
            guard let e = file.entry(key) else { throw BSQError("\(path): missing tensor '\(key)'") }
            guard e.shape == slot.shape else {
                throw BSQError("\(path): tensor '\(key)' has shape \(e.shape), expected \(slot.shape)")
            }
            entries.append(e)
        }
        if entries.allSatisfy({ $0.dtype == "F32" && $0.range.lowerBound % 4 == 0 }) {
            for e in entries { try file.checkFinite(e) }
            owned = nil
            mapped = MappedTensors(file: file.file, offsets: entries.map(\.range.lowerBound))
        } else {
            var weights = [Float](repeating: 0, count: layout.count)
            try weights.withUnsafeMutableBufferPointer { w in
                for (slot, e) in zip(layout.slots, entries) { try file.floats(e, into: w.baseAddress! + slot.offset) }
            }
            owned = weights
            mapped = nil
        }
        self.config = config
        self.layout = layout
        usedEMA = useEMA
        let base = path.split(separator: "/").last.map(String.init) ?? path
        name = config.name ?? base
    }

    /// Calls `body` with the weights (mapped tensors are not copied).
    public func withWeights<R>(_ body: (Weights) throws -> R) rethrows -> R {
        if let mapped { return try body(Weights(pointers: mapped.pointers)) }
        return try owned!.withUnsafeBufferPointer { w in try body(Weights(w.baseAddress!, layout)) }
    }

    /// Writes the weights (plus any extra tensors, e.g. training state) atomically.
    public func write(to path: String, extra: [(name: String, shape: [Int], values: [Float])] = [],
                      metadata: [(String, String)] = [], half: Bool = false) throws {
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
            try SafeTensors.write(to: path, metadata: [("format", "bsq-audio-1"), ("config", config.json)] + metadata, tensors: tensors, half: half)
        }
    }

    /// A fresh model: every tensor as its layer asks (linear weights,
    /// depthwise kernels and positional embeddings normal with std 0.02,
    /// biases 0, norm weights 1, BatchNorm running mean 0 and variance 1),
    /// normal draws from one generator in the layout's order.
    public static func initialized(_ config: ModelConfig, seed: UInt64) -> Checkpoint {
        Checkpoint(config: config, weights: ParameterLayout(config).initialValues(seed: seed))
    }
}

/// F32 tensors read in place from a mapped safetensors file (4-byte aligned).
final class MappedTensors: @unchecked Sendable {
    let file: MappedFile
    let pointers: [UnsafePointer<Float>]

    init(file: MappedFile, offsets: [Int]) {
        self.file = file
        pointers = offsets.map { (file.bytes.baseAddress! + $0).assumingMemoryBound(to: Float.self) }
    }

    /// The tensors copied into one array in the layout's order.
    func copy(_ layout: ParameterLayout) -> [Float] {
        var out = [Float](repeating: 0, count: layout.count)
        out.withUnsafeMutableBufferPointer { o in
            for (slot, p) in zip(layout.slots, pointers) { (o.baseAddress! + slot.offset).update(from: p, count: slot.count) }
        }
        return out
    }
}
