/// SpecAugment (Park et al. 2019, "SpecAugment: A Simple Data Augmentation
/// Method for Automatic Speech Recognition") on one log-mel spectrogram of
/// `T` frames × `F` mel bins, time-major:
///
///     1. time warp (when timeWarp = W > 0 and T > 2W):
///            c = W + u(T − 2W)               center, in [W, T − W)
///            w = u(2W + 1) − W               shift, in [−W, W];  d = c + w
///        rows [0, c) are resized to d rows and rows [c, T) to T − d rows, each
///        by linear interpolation along time with half-pixel centers (what
///        `torch.nn.functional.interpolate(mode="linear", align_corners=False)`
///        does): output row i of a piece of n rows made from m rows reads
///            x = max((i + ½)·m/n − ½, 0),  i₀ = ⌊x⌋,  i₁ = min(i₀ + 1, m − 1)
///            y[i] = row[i₀] + (x − i₀)·(row[i₁] − row[i₀])
///     2. freqMasks times: width f = u(F′ + 1), start f₀ = u(F − f + 1);
///        bins [f₀, f₀ + f) of every row are set to the fill value
///     3. timeMasks times: width t = u(T′ + 1), start t₀ = u(T − t + 1);
///        rows [t₀, t₀ + t) are set to the fill value
///
/// where u(n) = next() mod n of the generator, drawn in exactly that order,
/// and F′, T′ are the largest widths (`Width.limit`). The fill value is
/// computed from the spectrogram as given, before the warp.
public struct SpecAugment: Sendable, Equatable {
    /// The largest width of a mask along an axis.
    public enum Width: Sendable, Equatable {
        /// This fraction of the axis, rounded down.
        case fraction(Double)
        /// This many rows or bins (at most the whole axis).
        case count(Int)

        /// The largest width on an axis of `n`.
        public func limit(_ n: Int) -> Int {
            switch self {
            case .fraction(let p): return Swift.min(n, Int((p * Double(n)).rounded(.down)))
            case .count(let c): return Swift.min(n, c)
            }
        }
    }

    /// What masked values become.
    public enum Fill: Sendable, Equatable {
        /// The dB floor: max(values) − top_db when top_db is known, else the minimum.
        case floor
        /// The smallest value.
        case min
        /// The mean value.
        case mean
        /// A fixed value in dB.
        case value(Float)
    }

    public var timeMasks: Int
    public var freqMasks: Int
    public var timeWidth: Width
    public var freqWidth: Width
    public var fill: Fill
    /// W of the time warp; 0 is off.
    public var timeWarp: Int

    public init(timeMasks: Int = 2, freqMasks: Int = 2, timeWidth: Width = .fraction(0.1),
                freqWidth: Width = .fraction(0.1), fill: Fill = .floor, timeWarp: Int = 0) {
        self.timeMasks = timeMasks
        self.freqMasks = freqMasks
        self.timeWidth = timeWidth
        self.freqWidth = freqWidth
        self.fill = fill
        self.timeWarp = timeWarp
    }

    /// A band of rows or bins: [start, start + width).
    public struct Mask: Sendable, Equatable {
        public var start: Int
        public var width: Int
        public init(start: Int, width: Int) { self.start = start; self.width = width }
    }

    /// Rows [0, center) were resized to `warped` rows, rows [center, T) to T − `warped`.
    public struct Warp: Sendable, Equatable {
        public var window: Int
        public var center: Int
        public var shift: Int
        public var warped: Int { center + shift }
    }

    /// What one application did.
    public struct Applied: Sendable, Equatable {
        public var warp: Warp?
        public var freqMasks: [Mask]
        public var timeMasks: [Mask]
        public var fill: Float
    }

    /// Warps and masks `values` (`frames × nMels`, time-major). `topDB` is the
    /// spectrogram's `mel.db.top_db`, used by `Fill.floor`.
    public func apply(_ values: [Float], frames: Int, nMels: Int, topDB: Double?,
                      rng: inout SplitMix64) -> (values: [Float], applied: Applied) {
        precondition(values.count == frames * nMels, "values are not frames × nMels")
        let fillValue = SpecAugment.fillValue(fill, of: values, topDB: topDB)
        var out = values
        var warp: Warp?
        if timeWarp > 0 && frames > 2 * timeWarp {
            let c = timeWarp + SpecAugment.uniform(frames - 2 * timeWarp, &rng)
            let w = SpecAugment.uniform(2 * timeWarp + 1, &rng) - timeWarp
            warp = Warp(window: timeWarp, center: c, shift: w)
            out = SpecAugment.warpTime(values, frames: frames, nMels: nMels, center: c, warped: c + w)
        }
        let freq = SpecAugment.masks(freqMasks, axis: nMels, widest: freqWidth.limit(nMels), &rng)
        let time = SpecAugment.masks(timeMasks, axis: frames, widest: timeWidth.limit(frames), &rng)
        out.withUnsafeMutableBufferPointer { v in
            for m in freq {
                for t in 0..<frames {
                    for f in m.start..<(m.start + m.width) { v[t * nMels + f] = fillValue }
                }
            }
            for m in time {
                for i in (m.start * nMels)..<((m.start + m.width) * nMels) { v[i] = fillValue }
            }
        }
        return (out, Applied(warp: warp, freqMasks: freq, timeMasks: time, fill: fillValue))
    }

    /// u(n) = next() mod n: a uniform draw from 0..<n (its bias, below n / 2⁶⁴, does not matter here).
    static func uniform(_ n: Int, _ rng: inout SplitMix64) -> Int {
        Int(rng.next() % UInt64(n))
    }

    static func masks(_ count: Int, axis: Int, widest: Int, _ rng: inout SplitMix64) -> [Mask] {
        (0..<count).map { _ in
            let width = uniform(widest + 1, &rng)
            return Mask(start: uniform(axis - width + 1, &rng), width: width)
        }
    }

    /// The value `fill` stands for in `values` (0 when there are none).
    public static func fillValue(_ fill: Fill, of values: [Float], topDB: Double?) -> Float {
        if case .value(let v) = fill { return v }
        guard let lo = values.min(), let hi = values.max() else { return 0 }
        switch fill {
        case .floor: return topDB.map { Float(Double(hi) - $0) } ?? lo
        case .min: return lo
        case .mean: return Float(values.reduce(0.0) { $0 + Double($1) } / Double(values.count))
        case .value(let v): return v
        }
    }

    /// The time warp of a spectrogram (see the type's description): rows
    /// [0, center) stretched or squeezed to `warped` rows and rows
    /// [center, frames) to `frames − warped`, by linear interpolation.
    /// Needs 0 < center < frames and 0 ≤ warped < frames.
    public static func warpTime(_ values: [Float], frames: Int, nMels: Int, center: Int, warped: Int) -> [Float] {
        precondition(center > 0 && center < frames && warped >= 0 && warped < frames, "warp out of range")
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                func resize(from start: Int, _ m: Int, to outStart: Int, _ n: Int) {
                    guard n > 0 else { return }
                    let scale = Double(m) / Double(n)
                    for i in 0..<n {
                        let x = Swift.max((Double(i) + 0.5) * scale - 0.5, 0)
                        let i0 = Swift.min(Int(x), m - 1)
                        let i1 = Swift.min(i0 + 1, m - 1)
                        let l = Float(x - Double(i0))
                        let r0 = (start + i0) * nMels, r1 = (start + i1) * nMels, o = (outStart + i) * nMels
                        for f in 0..<nMels { dst[o + f] = src[r0 + f] + l * (src[r1 + f] - src[r0 + f]) }
                    }
                }
                resize(from: 0, center, to: 0, warped)
                resize(from: center, frames - center, to: warped, frames - warped)
            }
        }
        return out
    }
}
