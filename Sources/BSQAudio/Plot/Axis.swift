import Foundation

/// One axis of a plot: a data range mapped linearly or logarithmically onto
/// pixels, with tick values at "nice" numbers (1, 2 or 5 × 10^k apart, or
/// powers of ten on a log axis) and their labels.
public struct Axis: Sendable {
    public var lo: Double
    public var hi: Double
    public var log: Bool
    public var ticks: [Double]
    /// Spacing of the ticks (linear axes), used to choose the labels' digits.
    public var step: Double

    /// A linear axis over [lo, hi] with about `target` ticks; with `pad`, the
    /// range grows by that fraction on each side (and an empty range is widened).
    public static func linear(_ lo: Double, _ hi: Double, target: Int = 6, pad: Double = 0) -> Axis {
        var lo = lo, hi = hi
        // an empty range, or one narrower than rounding (a constant series smoothed), is widened
        if !(hi - lo > 1e-9 * max(abs(lo), abs(hi))) {
            let mid = (lo + hi) / 2, d = mid == 0 ? 1 : abs(mid) * 0.1
            lo = mid - d; hi = mid + d
        }
        let span = hi - lo
        lo -= span * pad; hi += span * pad
        let step = niceStep((hi - lo) / Double(max(1, target)))
        var ticks: [Double] = []
        var k = (lo / step).rounded(.up)
        while k * step <= hi + step * 1e-9 && ticks.count <= 2 * max(1, target) + 2 {
            ticks.append(abs(k * step) < step * 1e-9 ? 0 : k * step)
            k += 1
        }
        return Axis(lo: lo, hi: hi, log: false, ticks: ticks, step: step)
    }

    /// A log axis over [lo, hi] (both > 0), padded by `pad` of its decades on
    /// each side: ticks at powers of ten, with 2 and 5 between them when the
    /// range spans less than two decades.
    public static func logarithmic(_ lo: Double, _ hi: Double, pad: Double = 0) -> Axis {
        var a = Foundation.log10(lo), b = Foundation.log10(hi)
        if !(b > a) { a -= 0.5; b += 0.5 }
        let span = b - a
        a -= span * pad; b += span * pad
        var ticks: [Double] = []
        let multipliers: [Double] = b - a < 2 ? [1, 2, 5] : [1]
        var e = a.rounded(.down)
        while e <= b {
            for m in multipliers {
                let v = m * Foundation.pow(10, e)
                let lv = Foundation.log10(v)
                if lv >= a - 1e-9 && lv <= b + 1e-9 { ticks.append(v) }
            }
            e += 1
        }
        return Axis(lo: Foundation.pow(10, a), hi: Foundation.pow(10, b), log: true, ticks: ticks, step: 0)
    }

    /// 1, 2 or 5 × 10^k, the first at least `raw`.
    public static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let p = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
        for m in [1.0, 2, 5, 10] where m * p >= raw * (1 - 1e-9) { return m * p }
        return 10 * p
    }

    /// Where `v` falls, 0 at `lo` to 1 at `hi`.
    public func fraction(_ v: Double) -> Double {
        if log { return (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo)) }
        return (v - lo) / (hi - lo)
    }

    /// The label of tick `v`; with `compact`, thousands and millions as 20k, 1.5M.
    public func label(_ v: Double, compact: Bool = false) -> String {
        if v == 0 { return "0" }
        if log { return Axis.shortest(v) }
        let magnitude = max(abs(lo), abs(hi))
        if compact && step >= 1 && magnitude >= 1e4 {
            if abs(v) >= 1e6 { return Axis.fixed(v / 1e6, step: step / 1e6) + "M" }
            if abs(v) >= 1e3 { return Axis.fixed(v / 1e3, step: step / 1e3) + "k" }
            return Axis.fixed(v, step: step)
        }
        if magnitude >= 1e5 || step < 1e-3 {
            let digits = max(0, Int(Foundation.log10(abs(v)).rounded(.down) - Foundation.log10(step).rounded(.down)))
            return Axis.scientific(v, digits: min(digits, 4))
        }
        return Axis.fixed(v, step: step)
    }

    /// `v` with as many decimals as `step` needs (a step of 0.05 gives two).
    static func fixed(_ v: Double, step: Double) -> String {
        let decimals = max(0, Int(-(Foundation.log10(step) + 1e-9).rounded(.down)))
        return String(format: "%.\(decimals)f", v)
    }

    /// Like 2.5e-4: the mantissa with `digits` decimals, trailing zeros dropped.
    static func scientific(_ v: Double, digits: Int) -> String {
        let s = String(format: "%.\(digits)e", v)
        guard let e = s.firstIndex(of: "e") else { return s }
        var mantissa = String(s[..<e])
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        let exponent = Int(s[s.index(after: e)...]) ?? 0
        return "\(mantissa)e\(exponent)"
    }

    /// Decimal for 0.001 to 99999, scientific otherwise (log-axis labels).
    static func shortest(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e-3 && a < 1e5 {
            var s = String(format: "%.6f", v)
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
            return s
        }
        return scientific(v, digits: 3)
    }
}
