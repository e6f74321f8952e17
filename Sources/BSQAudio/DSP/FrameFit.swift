/// The original project's length normalization: exactly `frames` rows, by
/// padding with the floor value at the end or by cropping a window.
public struct FrameFit: Sendable, Equatable {
    public enum Crop: String, Sendable, CaseIterable { case start, center, random }

    public var frames: Int
    public var crop: Crop
    public var seed: UInt64

    public init(frames: Int, crop: Crop = .start, seed: UInt64 = 0) {
        self.frames = frames
        self.crop = crop
        self.seed = seed
    }

    /// The first row kept of `total` (0 when padding). A random crop depends
    /// only on the seed and the key, so it is the same in every run and
    /// whatever the order or parallelism of a batch.
    public func offset(total: Int, key: String) -> Int {
        let spare = total - frames
        guard spare > 0 else { return 0 }
        switch crop {
        case .start: return 0
        case .center: return spare / 2
        case .random:
            var rng = SplitMix64(seed: seed ^ SplitMix64.fnv1a(key))
            return Int(rng.next() % UInt64(spare + 1))
        }
    }

    /// Rows [offset, offset + frames) of `mel`, padded with its floor.
    public func apply(_ mel: LogMel, key: String) -> (mel: LogMel, offset: Int) {
        let off = offset(total: mel.frames, key: key)
        var out = [Float](repeating: mel.floor, count: frames * mel.nMels)
        let kept = min(frames, mel.frames - off)
        if kept > 0 {
            out.withUnsafeMutableBufferPointer { o in
                mel.values.withUnsafeBufferPointer { v in
                    o.baseAddress!.update(from: v.baseAddress! + off * mel.nMels, count: kept * mel.nMels)
                }
            }
        }
        return (LogMel(values: out, frames: frames, nMels: mel.nMels, floor: mel.floor), off)
    }
}
