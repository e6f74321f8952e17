/// SpecAugment on frames: the masks of a frame depend only on the seed and
/// the frame's key, and what was done is recorded in its metadata.
extension SpecAugment {
    /// The generator of the frame keyed `key`: SplitMix64 started at
    /// FNV-1a-64(key) XOR s, where s is the first output of SplitMix64(seed).
    /// (Scrambling the seed keeps these masks unrelated to `mel --crop random`
    /// with the same seed.) A frame without a key has the key "".
    public static func generator(seed: UInt64, key: String) -> SplitMix64 {
        var s = SplitMix64(seed: seed)
        return SplitMix64(seed: SplitMix64.fnv1a(key) ^ s.next())
    }

    /// The augmented frame: same dims and metadata, plus the key "specaug"
    /// (replacing an earlier one). Throws unless `frame` is a mel frame.
    public func apply(to frame: Frame, seed: UInt64) throws -> Frame {
        let mel = try MelFrame(frame)
        var rng = SpecAugment.generator(seed: seed, key: frame.key ?? "")
        let (values, applied) = apply(mel.values, frames: mel.frames, nMels: mel.nMels, topDB: mel.topDB, rng: &rng)
        var meta = frame.meta
        meta["specaug"] = nil
        meta["specaug"] = applied.metadata(seed: seed)
        return Frame(values, dims: frame.dims, meta: meta)
    }
}

extension SpecAugment.Applied {
    /// `{"seed", "time_warp": {"window", "center", "shift"} or null,
    /// "freq_masks": [[start, width], …], "time_masks": [[start, width], …], "fill"}`.
    /// A seed of 2⁵³ or more, which a JSON number cannot hold exactly, is recorded as a string.
    public func metadata(seed: UInt64) -> JSONValue {
        var o = JSONObject()
        o["seed"] = seed < 1 << 53 ? .number(Double(seed)) : .string(String(seed))
        o["time_warp"] = warp.map { ["window": JSONValue($0.window), "center": JSONValue($0.center), "shift": JSONValue($0.shift)] } ?? .null
        o["freq_masks"] = .array(freqMasks.map { [JSONValue($0.start), JSONValue($0.width)] })
        o["time_masks"] = .array(timeMasks.map { [JSONValue($0.start), JSONValue($0.width)] })
        o["fill"] = .number(Double(fill))
        return .object(o)
    }
}

// MARK: - Option values

extension SpecAugment.Width {
    /// `0.1` (with a point or an exponent: a fraction from 0 to 1) or `27` (a count).
    public init?(_ text: String) {
        if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let n = Int(text) {
            self = .count(n)
        } else if let p = Double(text), p >= 0, p <= 1 {
            self = .fraction(p)
        } else {
            return nil
        }
    }
}

extension SpecAugment.Fill {
    /// `floor`, `min`, `mean` or a finite number of dB.
    public init?(_ text: String) {
        switch text {
        case "floor": self = .floor
        case "min": self = .min
        case "mean": self = .mean
        default:
            guard let v = Float(text), v.isFinite else { return nil }
            self = .value(v)
        }
    }
}
