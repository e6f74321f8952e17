/// ln x and 10·log10(x) for eight positive, finite, normal floats at once, within
/// 3 ulp of libm's log10f: x = m·2ᵏ with m in [√½, √2) (musl's split),
/// ln m = 2·atanh(s), s = (m − 1)/(m + 1), by its odd series to s⁹ (|s| < 0.172,
/// truncation below 3·10⁻¹⁰), and k·ln 2 in two parts.
public enum FastLog {
    @inline(__always)
    public static func decibels(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let scale: Float = 4.342_944_819_032_518   // 10 / ln 10
        return ln(x) * scale
    }

    /// The natural logarithm (same range and accuracy).
    @inline(__always)
    public static func ln(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let (k, m) = split(x)
        return ln(k: k, m: m, s: (m - 1) / (m + 1))
    }

    /// ln x and 1/x for x in [2⁻¹²⁶, 2¹²⁶] with one division: r = 1/((m + 1)·x)
    /// gives the series' 1/(m + 1) = r·x and 1/x = r·(m + 1) (within 2 ulp);
    /// the series with `FastMath.fma` (fused where the build has FMA).
    @inline(__always)
    public static func lnAndReciprocal(_ x: SIMD8<Float>) -> (ln: SIMD8<Float>, reciprocal: SIMD8<Float>) {
        typealias V = SIMD8<Float>
        let (k, m) = split(x)
        let m1 = m + 1, r = 1 / (m1 * x)
        let s = (m - 1) * (r * x), s2 = s * s
        var series = FastMath.fma(s2, V(repeating: 1.0 / 9), V(repeating: 1.0 / 7))
        series = FastMath.fma(s2, series, V(repeating: 1.0 / 5))
        series = FastMath.fma(s2, series, V(repeating: 1.0 / 3))
        let twoS = s + s
        let lnm = FastMath.fma(twoS, series * s2, twoS)
        let low = FastMath.fma(k, V(repeating: 1.428_606_765_330_187e-06), lnm)
        return (FastMath.fma(k, V(repeating: 0.693_145_751_953_125), low), r * m1)
    }

    /// x = 2^k·m with m in [√½, √2).
    @inline(__always)
    static func split(_ x: SIMD8<Float>) -> (k: SIMD8<Float>, m: SIMD8<Float>) {
        var ix = unsafeBitCast(x, to: SIMD8<Int32>.self) &+ (0x3f80_0000 - 0x3f35_04f3)
        // k as a float without a generic conversion: small integers sit in the mantissa of 1.5·2²³
        let k = unsafeBitCast(((ix &>> 23) &- 0x7f) &+ 0x4B40_0000, to: SIMD8<Float>.self) - 12_582_912
        ix = (ix & 0x007f_ffff) &+ 0x3f35_04f3
        return (k, unsafeBitCast(ix, to: SIMD8<Float>.self))
    }

    /// k·ln 2 + ln m from s = (m − 1)/(m + 1): ln m = 2·atanh s by its series.
    @inline(__always)
    static func ln(k: SIMD8<Float>, m: SIMD8<Float>, s: SIMD8<Float>) -> SIMD8<Float> {
        let s2 = s * s
        let c3 = SIMD8<Float>(repeating: 1.0 / 3), c5 = SIMD8<Float>(repeating: 1.0 / 5)
        let c7 = SIMD8<Float>(repeating: 1.0 / 7), c9 = SIMD8<Float>(repeating: 1.0 / 9)
        var series = s2 * c9 + c7
        series = s2 * series + c5
        series = s2 * series + c3
        series = s2 * series
        let lnm = 2 * s + 2 * s * series
        let ln2Hi: Float = 0.693_145_751_953_125, ln2Lo: Float = 1.428_606_765_330_187e-06
        let low = lnm + k * ln2Lo
        return k * ln2Hi + low
    }

    @inline(__always)
    public static func decibels(_ x: Float) -> Float { decibels(SIMD8<Float>(repeating: x))[0] }
}
