import Foundation

/// The model's configuration, exactly the JSON stored in a checkpoint's
/// `__metadata__["config"]` (docs/model.md), with the presets as static values.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var name: String?
    public var n_mels = 128
    public var frames = 1024
    public var patch_time = 16
    public var patch_freq = 16
    public var width = 192
    public var layers = 4
    public var heads = 3
    public var mlp_ratio = 4
    public var conv_module = true
    public var conv_kernel = 31
    public var embed_dim = 18
    public var group_size = 9
    public var persample_entropy = "group"
    public var decoder_ffn = 768
    public var db_min = -80.0
    public var db_max = 0.0
    /// The mel analysis the model takes (absent from the JSON: 16000 Hz, hop 160,
    /// the kit's `mel` defaults; written only when set).
    public var sample_rate: Int?
    public var hop_length: Int?
    /// A learned `encoder.mask_token` [width] for masked pre-training (absent: none).
    public var mask_token: Bool?

    public init() {}

    public static let defaultSampleRate = 16000, defaultHopLength = 160
    public var sampleRate: Int { sample_rate ?? ModelConfig.defaultSampleRate }
    public var hasMaskToken: Bool { mask_token ?? false }
    public var hopLength: Int { hop_length ?? ModelConfig.defaultHopLength }
    /// Seconds per mel frame and per chunk of `frames` frames.
    public var frameSeconds: Double { Double(hopLength) / Double(sampleRate) }
    public var chunkSeconds: Double { Double(frames) * frameSeconds }

    /// Chunks of `frames` rows that `count` mel rows take (the last one padded).
    public func chunks(frames count: Int) -> Int { (count + frames - 1) / frames }
    /// Time patches that hold at least one of `count` mel frames: ⌈count / patch_time⌉.
    public func coveredTimePatches(frames count: Int) -> Int { (count + patch_time - 1) / patch_time }

    /// Mel rows [count, n_mels] cut into whole chunks: the rows, then db_min up
    /// to the end of the last chunk (the model's "any length" rule).
    public func padToChunks(_ rows: UnsafeRawBufferPointer, frames count: Int) -> [Float] {
        precondition(rows.count == count * n_mels * MemoryLayout<Float>.size)
        var out = [Float](repeating: Float(db_min), count: chunks(frames: count) * frames * n_mels)
        out.withUnsafeMutableBytes { $0.copyMemory(from: rows) }
        return out
    }

    public static let tiny: ModelConfig = { var c = ModelConfig(); c.name = "tiny"; return c }()
    public static let small: ModelConfig = {
        var c = ModelConfig()
        c.name = "small"; c.width = 384; c.layers = 6; c.heads = 6; c.decoder_ffn = 1536
        return c
    }()
    public static let base: ModelConfig = {
        var c = ModelConfig()
        c.name = "base"; c.width = 768; c.layers = 12; c.heads = 12; c.decoder_ffn = 3072
        return c
    }()
    public static let presets: [String: ModelConfig] = ["tiny": tiny, "small": small, "base": base]

    /// A preset with `bits` per token (its groups of 9, or of `bits` when fewer),
    /// another `groupSize`, the convolution module on or off, and a name
    /// (default: the preset's, with the bits when not 18), checked.
    public static func preset(_ name: String, bits: Int? = nil, groupSize: Int? = nil, conv: Bool = true,
                              named: String? = nil) throws -> ModelConfig {
        guard var c = presets[name] else { throw BSQError("--preset must be tiny, small or base (got \(name))") }
        if let bits { c.embed_dim = bits; c.group_size = min(9, bits) }
        if let groupSize { c.group_size = groupSize }
        c.conv_module = conv
        c.name = named ?? (bits == nil || bits == 18 ? name : "\(name)\(c.embed_dim)")
        try c.validate()
        return c
    }

    /// Token grid: time patches per chunk, frequency patches, tokens per chunk.
    public var nt: Int { frames / patch_time }
    public var nf: Int { n_mels / patch_freq }
    public var tokens: Int { nt * nf }
    public var patchDim: Int { patch_time * patch_freq }

    /// Floating-point operations of the matrix products (2 per multiply-add)
    /// and the depthwise convolution for one chunk through one transformer stack.
    public var blockFlops: Double {
        let n = Double(tokens), w = Double(width)
        var f = 2 * n * w * 3 * w + 2 * 2 * n * n * w + 2 * n * w * w + 2 * 2 * n * w * Double(mlp_ratio) * w
        if conv_module { f += 2 * n * w * 2 * w + 2 * n * w * Double(conv_kernel) + 2 * n * w * w }
        return f * Double(layers)
    }

    /// Flops of encoding one chunk (patch embedding, encoder, quantizer projection).
    public var encodeFlops: Double {
        let n = Double(tokens), w = Double(width)
        return blockFlops + 2 * n * Double(patchDim) * w + 2 * n * w * Double(embed_dim)
    }

    /// Flops of decoding one chunk (codes projection, decoder, head).
    public var decodeFlops: Double {
        let n = Double(tokens), w = Double(width), f = Double(decoder_ffn)
        return blockFlops + 2 * n * Double(embed_dim) * w + 2 * n * w * f + 2 * n * f * Double(patchDim)
    }

    /// Checks that the numbers fit together, naming the field that does not.
    /// The largest values a configuration may hold (docs/model.md, Limits):
    /// checked before anything is allocated, from presets, `--set`, JSON files and checkpoints alike.
    public static let limits = (nMels: 4096, frames: 16384, patch: 256, tokens: 8192, width: 8192, heads: 256, ffn: 65536,
                                convKernel: 255, mlpRatio: 16)

    public func validate() throws {
        func need(_ ok: Bool, _ what: String) throws { if !ok { throw BSQError("model config: \(what)") } }
        // the limits (docs/model.md, Limits) come first, so that no product below can overflow
        let L = ModelConfig.limits
        func within(_ name: String, _ v: Int, _ r: ClosedRange<Int>) throws { try need(r.contains(v), "\(name) must be in \(r.lowerBound)...\(r.upperBound) (got \(v))") }
        try within("n_mels", n_mels, 1...L.nMels); try within("frames", frames, 1...L.frames)
        try within("patch_time", patch_time, 1...L.patch); try within("patch_freq", patch_freq, 1...L.patch)
        try within("width", width, 1...L.width); try within("heads", heads, 1...L.heads)
        try within("decoder_ffn", decoder_ffn, 1...L.ffn); try within("conv_kernel", conv_kernel, 1...L.convKernel)
        try within("mlp_ratio", mlp_ratio, 1...L.mlpRatio)
        try need(n_mels % patch_freq == 0, "n_mels (\(n_mels)) must be a positive multiple of patch_freq (\(patch_freq))")
        try need(frames % patch_time == 0, "frames (\(frames)) must be a positive multiple of patch_time (\(patch_time))")
        try within("tokens per chunk (frames/patch_time · n_mels/patch_freq)", tokens, 1...L.tokens)
        try need(width % heads == 0, "width (\(width)) must be a positive multiple of heads (\(heads))")
        try need(layers >= 0 && layers <= 256, "layers must be in 0...256 (got \(layers))")
        try need(!conv_module || (conv_kernel > 0 && conv_kernel % 2 == 1), "conv_kernel must be odd and > 0 (got \(conv_kernel))")
        try need(embed_dim > 0 && embed_dim <= 64, "embed_dim must be in 1...64 (got \(embed_dim))")
        try need(group_size > 0 && embed_dim % group_size == 0, "group_size (\(group_size)) must divide embed_dim (\(embed_dim))")
        try need(group_size <= 18 || persample_entropy == "analytical", "group_size (\(group_size)) must be at most 18 with persample_entropy group")
        try need(["group", "analytical"].contains(persample_entropy), "persample_entropy must be group or analytical")
        try need(db_max > db_min, "db_max must be above db_min")
        try need(tokens * width < 1 << 31, "the model is too large")
        try need(sample_rate.map { $0 > 0 && $0 <= MelAnalysis.maxSampleRate } ?? true, "sample_rate must be in 1...\(MelAnalysis.maxSampleRate)")
        try need(hop_length.map { $0 > 0 && $0 <= MelAnalysis.maxFFT } ?? true, "hop_length must be in 1...\(MelAnalysis.maxFFT)")
    }

    /// The configuration stored in a checkpoint, checked (errors name the field: `model.width: wrong type`).
    public static func decode(json: String) throws -> ModelConfig {
        guard let fields = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw BSQError("model config: not a JSON object")
        }
        let c = try ConfigJSON.decode(ModelConfig.self, fields, section: "model")
        try c.validate()
        return c
    }

    /// The JSON stored in checkpoints (keys in the order of docs/model.md).
    public var json: String {
        var o = JSONObject()
        if let name { o["name"] = .string(name) }
        o["n_mels"] = JSONValue(n_mels); o["frames"] = JSONValue(frames)
        o["patch_time"] = JSONValue(patch_time); o["patch_freq"] = JSONValue(patch_freq)
        o["width"] = JSONValue(width); o["layers"] = JSONValue(layers); o["heads"] = JSONValue(heads)
        o["mlp_ratio"] = JSONValue(mlp_ratio); o["conv_module"] = .bool(conv_module); o["conv_kernel"] = JSONValue(conv_kernel)
        o["embed_dim"] = JSONValue(embed_dim); o["group_size"] = JSONValue(group_size)
        o["persample_entropy"] = .string(persample_entropy); o["decoder_ffn"] = JSONValue(decoder_ffn)
        o["db_min"] = .number(db_min); o["db_max"] = .number(db_max)
        if let sample_rate { o["sample_rate"] = JSONValue(sample_rate) }
        if let hop_length { o["hop_length"] = JSONValue(hop_length) }
        if let mask_token { o["mask_token"] = .bool(mask_token) }
        return JSONValue.object(o).serialized()
    }
}
