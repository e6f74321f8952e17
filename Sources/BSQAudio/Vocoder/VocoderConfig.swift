import Foundation

/// The neural vocoder's configuration, exactly the JSON stored in its
/// safetensors `__metadata__["vocoder"]` (docs/vocoder.md): the mel frames it
/// takes (sample rate, hop, mel bands and the dB range normalized to [−1, 1]
/// as the tokenizer normalizes them) and the network's size. The inverse
/// STFT's `n_fft` is 4·hop with a Hann window of the same length.
public struct VocoderConfig: Codable, Sendable, Equatable {
    public var name: String?
    public var sample_rate = 16000
    public var hop_length = 160
    public var n_mels = 128
    public var db_min = -80.0
    public var db_max = 0.0
    /// Channels of the backbone, of the ConvNeXt blocks' hidden layer, and how many blocks.
    public var dim = 256
    public var ffn = 768
    public var layers = 6
    /// Kernel of the input convolution and of the blocks' depthwise convolutions.
    public var kernel = 7

    public init() {}

    public var nFFT: Int { 4 * hop_length }
    public var bins: Int { nFFT / 2 + 1 }
    /// Samples the inverse STFT trims each side ("same" padding): (n_fft − hop)/2.
    public var istftPad: Int { (nFFT - hop_length) / 2 }

    public static let tiny: VocoderConfig = { var c = VocoderConfig(); c.name = "vocos-tiny"; return c }()
    public static let base: VocoderConfig = {
        var c = VocoderConfig()
        c.name = "vocos-base"; c.dim = 512; c.ffn = 1536; c.layers = 8
        return c
    }()
    public static let presets: [String: VocoderConfig] = ["tiny": tiny, "base": base]

    public func validate() throws {
        func need(_ ok: Bool, _ what: String) throws { if !ok { throw BSQError("vocoder config: \(what)") } }
        try need(sample_rate > 0 && sample_rate <= 384_000, "sample_rate must be in 1...384000 (got \(sample_rate))")
        try need(hop_length > 0 && hop_length <= 4096 && hop_length % 2 == 0, "hop_length must be even and in 2...4096 (got \(hop_length))")
        try need(n_mels > 0 && n_mels <= 1024, "n_mels must be in 1...1024 (got \(n_mels))")
        try need(db_min.isFinite && db_max.isFinite && db_min < db_max, "db_min must be below db_max")
        try need(dim > 0 && dim <= 4096, "dim must be in 1...4096 (got \(dim))")
        try need(ffn > 0 && ffn <= 16384, "ffn must be in 1...16384 (got \(ffn))")
        try need(layers >= 0 && layers <= 64, "layers must be in 0...64 (got \(layers))")
        try need(kernel > 0 && kernel % 2 == 1 && kernel <= 63, "kernel must be odd and in 1...63 (got \(kernel))")
    }

    public var json: String { String(decoding: (try? JSONEncoder.sorted.encode(self)) ?? Data(), as: UTF8.self) }

    public static func decode(json text: String) throws -> VocoderConfig {
        guard let fields = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw BSQError("vocoder config: not a JSON object")
        }
        var all = try JSONSerialization.jsonObject(with: try JSONEncoder.sorted.encode(VocoderConfig())) as! [String: Any]
        let known = Set(all.keys).union(["name"])
        for (k, v) in fields {
            guard known.contains(k) else { throw BSQError("vocoder config: unknown field '\(k)'") }
            all[k] = v
        }
        let c = try ConfigJSON.decode(VocoderConfig.self, all, section: "vocoder")
        try c.validate()
        return c
    }

    /// The mel analysis of the frames the vocoder takes (`mel`'s defaults at its rate and hop).
    public var analysis: MelAnalysis {
        var a = MelAnalysis()
        a.sampleRate = sample_rate
        a.hopLength = hop_length
        a.nMels = n_mels
        return a
    }
}
