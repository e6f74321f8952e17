/// A stream of tokens (bsqt(5), kind "codes"): `u32` or `u64` dims
/// `[time_patches, freq_patches]`, each value below 2^bits, with the metadata
/// `bits`, `frames`, `covered_time_patches`, `model` and the `mel` analysis
/// of the frame encoded — built for writing, or checked and read from a frame.
///
/// The model works on fixed chunks, so the last chunk of an utterance is
/// padded: of its time patches, the first ⌈frames / patch_time⌉ (the covered
/// ones) hold mel frames and the rest only padding. `covered_time_patches`
/// says how many; rates and statistics count the covered tokens alone.
public struct CodesFrame: Sendable {
    public let frame: Frame
    public let tokens: [UInt64]
    public let bits: Int
    /// Mel frames the tokens stand for.
    public let frames: Int
    /// Time patches (rows) that hold mel frames: the metadata
    /// `covered_time_patches`, every row for codes written without it.
    public let coveredTimePatches: Int
    public let hopLength: Int
    public let sampleRate: Int

    /// The duration the tokens stand for: frames · hop_length / sample_rate.
    public var seconds: Double { Double(frames) * Double(hopLength) / Double(sampleRate) }

    /// The checkpoint that made the codes: the metadata `model` {"name",
    /// "sha256"}, with "default": true for the kit's default model.
    public struct Model: Sendable, Equatable {
        public var name: String
        public var sha256: String
        public var isDefault: Bool

        public init(name: String, sha256: String, isDefault: Bool = false) {
            self.name = name
            self.sha256 = sha256
            self.isDefault = isDefault
        }

        public var metadata: JSONValue {
            var o = JSONObject(["name": .string(name), "sha256": .string(sha256)])
            if isDefault { o["default"] = true }
            return .object(o)
        }
    }

    /// Keys of the encoded mel frame's metadata that codes drop: the ones
    /// they set themselves and `crop` (the codes stand for the rows encoded).
    static let notPassed: Set<String> = ["kind", "axes", "frames", "covered_time_patches", "bits", "model", "crop"]

    /// The codes of `tokens` (`timePatches · freqPatches` of them, each below
    /// 2^bits), `u32` up to 32 bits and `u64` above, standing for `frames` mel
    /// frames of which the first `covered` rows hold some, with the metadata
    /// `metadata(bits:frames:covered:model:passing:)`.
    /// `hopLength` and `sampleRate` are those of the passed-on `mel`, `mel`'s
    /// defaults where it has none.
    public init(tokens: [UInt64], timePatches: Int, freqPatches: Int, bits: Int, frames: Int, covered: Int, model: Model,
                passing: JSONObject = JSONObject()) {
        precondition(tokens.count == timePatches * freqPatches, "tokens do not match time_patches × freq_patches")
        precondition(bits >= 1 && bits <= 64, "bits out of range")
        precondition(covered >= 1 && covered <= timePatches, "covered time patches out of range")
        let meta = CodesFrame.metadata(bits: bits, frames: frames, covered: covered, model: model, passing: passing)
        let dims = [timePatches, freqPatches]
        frame = bits > 32 ? Frame(tokens, dims: dims, meta: meta)
            : Frame(tokens.map { UInt32(truncatingIfNeeded: $0) }, dims: dims, meta: meta)
        self.tokens = tokens
        self.bits = bits
        self.frames = frames
        coveredTimePatches = covered
        hopLength = passing["mel"]?["hop_length"]?.int ?? MelAnalysis().hopLength
        sampleRate = passing["mel"]?["sample_rate"]?.int ?? MelAnalysis().sampleRate
    }

    /// A codes frame's metadata: `kind` "codes", the keys of `passing` (the
    /// metadata of the mel frame encoded: `key`, `source`, `mel`…) but
    /// `axes`, `crop` and those set here, in their order, then `axes`
    /// ["time_patch", "freq_patch"], `frames`, `covered_time_patches`, `bits` and `model`.
    public static func metadata(bits: Int, frames: Int, covered: Int, model: Model, passing: JSONObject = JSONObject()) -> JSONObject {
        var meta = JSONObject()
        meta["kind"] = "codes"
        for (k, v) in passing.pairs where !CodesFrame.notPassed.contains(k) { meta[k] = v }
        meta["axes"] = ["time_patch", "freq_patch"]
        meta["frames"] = JSONValue(frames)
        meta["covered_time_patches"] = JSONValue(covered)
        meta["bits"] = JSONValue(bits)
        meta["model"] = model.metadata
        return meta
    }

    /// Throws, with a message saying what is wrong, unless `frame` is a codes
    /// frame with the metadata `bits`, `frames`, `mel.hop_length` and `mel.sample_rate`.
    public init(_ frame: Frame) throws {
        let dims = "[" + frame.dims.map(String.init).joined(separator: ",") + "]"
        guard frame.kind == "codes", frame.dtype == .u32 || frame.dtype == .u64, frame.dims.count == 2 else {
            let kind = frame.kind.map { "\"\($0)\"" } ?? "none"
            throw BSQError("not a codes frame: kind \(kind), \(frame.dtype.name) \(dims) "
                + "(expected kind \"codes\", u32 or u64 [time_patches, freq_patches])")
        }
        func integer(_ v: JSONValue?, _ name: String, max: Int? = nil) throws -> Int {
            guard let n = v?.int, n > 0, n <= max ?? n else {
                let want = max.map { "an integer from 1 to \($0)" } ?? "an integer > 0"
                throw BSQError("metadata \(name) must be \(want) (got \(v?.serialized() ?? "nothing"))")
            }
            return n
        }
        self.frame = frame
        bits = try integer(frame.meta["bits"], "bits", max: frame.dtype == .u32 ? 32 : 64)
        frames = try integer(frame.meta["frames"], "frames")
        coveredTimePatches = frame.meta["covered_time_patches"] == nil ? frame.dims[0]
            : try integer(frame.meta["covered_time_patches"], "covered_time_patches", max: frame.dims[0])
        hopLength = try integer(frame.meta["mel"]?["hop_length"], "mel.hop_length")
        sampleRate = try integer(frame.meta["mel"]?["sample_rate"], "mel.sample_rate")
        tokens = try CodesFrame.tokens(of: frame, bits: bits)
    }

    public var key: String? { frame.key }

    /// The tokens of the covered time patches, row by row.
    public var coveredTokens: ArraySlice<UInt64> { tokens[0..<(coveredTimePatches * frame.dims[1])] }

    /// The metadata's `model`, when it names one by `name` and `sha256`.
    public var model: Model? {
        guard let m = frame.meta["model"], let name = m["name"]?.string, let sha = m["sha256"]?.string else { return nil }
        return Model(name: name, sha256: sha, isDefault: m["default"]?.bool ?? false)
    }

    /// The tokens of a u32 or u64 frame, widened, each checked to fit in `bits`.
    public static func tokens(of frame: Frame, bits: Int) throws -> [UInt64] {
        let tokens = frame.dtype == .u32 ? try frame.values(as: UInt32.self).map(UInt64.init) : try frame.values(as: UInt64.self)
        if bits < 64, let big = tokens.first(where: { $0 >> UInt64(bits) != 0 }) {
            throw BSQError("token \(big) does not fit in \(bits) bits")
        }
        return tokens
    }
}
