/// A frame checked to be a stream of tokens (FORMAT.md, kind "codes"): `u32`
/// or `u64` dims `[time_patches, freq_patches]`, each value below 2^bits,
/// with the metadata `bits`, `frames` and `mel.hop_length`, `mel.sample_rate`.
public struct CodesFrame: Sendable {
    public let tokens: [UInt64]
    public let bits: Int
    /// Mel frames the tokens stand for.
    public let frames: Int
    public let hopLength: Int
    public let sampleRate: Int

    /// The duration the tokens stand for: frames · hop_length / sample_rate.
    public var seconds: Double { Double(frames) * Double(hopLength) / Double(sampleRate) }

    /// Throws, with a message saying what is wrong, unless `frame` is a codes frame.
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
        bits = try integer(frame.meta["bits"], "bits", max: frame.dtype == .u32 ? 32 : 64)
        frames = try integer(frame.meta["frames"], "frames")
        hopLength = try integer(frame.meta["mel"]?["hop_length"], "mel.hop_length")
        sampleRate = try integer(frame.meta["mel"]?["sample_rate"], "mel.sample_rate")
        tokens = try CodesFrame.tokens(of: frame, bits: bits)
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
