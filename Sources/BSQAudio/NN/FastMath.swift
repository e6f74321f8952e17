/// Vectorized exp and erfc for the activations, eight floats at a time.
///
/// exp: x = n·ln 2 + r with |r| ≤ ½ ln 2 (ln 2 in two parts), e^r by its
/// degree-6 Taylor polynomial (truncation below 2·10⁻⁸ relative), 2ⁿ put in
/// the exponent bits; within 2 ulp of expf over [−87, 88].
/// erfc (x ≥ 0): Numerical Recipes' Chebyshev fit t·exp(−x² + P(t)),
/// t = 1/(1 + x/2), fractional error below 1.2·10⁻⁷ everywhere.
/// erf: a rational z·P(z²)/Q(z²) (degrees 6 and 5 in z², fitted to erf on
/// [0, 4] by iterated weighted least squares: docs/scripts/fit_erf.py),
/// |z| clamped at 4 where erf is 1 in float; absolute error below 3·10⁻⁷ in float.
public enum FastMath {
    public typealias V = SIMD8<Float>

    /// 1.5·2²³: adding it rounds a float of magnitude below 2²² to an integer,
    /// which then sits in the low mantissa bits (no generic conversions).
    static let magic: Float = 12_582_912

    /// a·b + c: one fused multiply-add in builds for a CPU that has it
    /// (`-D BSQ_FMA`, which make sets when it builds for such a host), a
    /// multiply and an add otherwise (where a fused one would be a libm call per lane).
    @inline(__always)
    public static func fma(_ a: V, _ b: V, _ c: V) -> V {
#if BSQ_FMA
        c.addingProduct(a, b)
#else
        a * b + c
#endif
    }

    @inline(__always)
    public static func exp(_ x: V) -> V {
        var x = x
        x.replace(with: V(repeating: -87.3), where: x .< -87.3)
        x.replace(with: V(repeating: 88.7), where: x .> 88.7)
        let t = fma(x, V(repeating: 1.442_695_04), V(repeating: magic))
        let n = t - magic                                              // round(x / ln 2)
        let k = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000  // the same, as integers
        var r = fma(n, V(repeating: -0.693_145_751_953_125), x)
        r = fma(n, V(repeating: -1.428_606_765_330_187e-06), r)
        var p = V(repeating: 1.0 / 720)
        p = fma(p, r, V(repeating: 1.0 / 120))
        p = fma(p, r, V(repeating: 1.0 / 24))
        p = fma(p, r, V(repeating: 1.0 / 6))
        p = fma(p, r, V(repeating: 0.5))
        p = fma(p, r, V(repeating: 1))
        p = fma(p, r, V(repeating: 1))
        return p * unsafeBitCast((k &+ 127) &<< 23, to: V.self)
    }

    @inline(__always)
    public static func erfc(nonNegative z: V) -> V {
        let t = 1 / (1 + 0.5 * z)
        var p = V(repeating: 0.170_872_77)
        p = fma(p, t, V(repeating: -0.822_152_23))
        p = fma(p, t, V(repeating: 1.488_515_87))
        p = fma(p, t, V(repeating: -1.135_203_98))
        p = fma(p, t, V(repeating: 0.278_868_07))
        p = fma(p, t, V(repeating: -0.186_288_06))
        p = fma(p, t, V(repeating: 0.096_784_18))
        p = fma(p, t, V(repeating: 0.374_091_96))
        p = fma(p, t, V(repeating: 1.000_023_68))
        p = fma(p, t, V(repeating: -1.265_512_23))
        return t * exp(p - z * z)
    }

    @inline(__always)
    public static func erf(_ z: V) -> V {
        var x = z
        x.replace(with: V(repeating: -4), where: x .< -4)
        x.replace(with: V(repeating: 4), where: x .> 4)
        let s = x * x
        var p = V(repeating: -1.289_994_052e-08)
        p = fma(p, s, V(repeating: 4.629_779_619e-06))
        p = fma(p, s, V(repeating: 3.772_516_643e-04))
        p = fma(p, s, V(repeating: 3.831_615_306e-03))
        p = fma(p, s, V(repeating: 5.423_206_920e-02))
        p = fma(p, s, V(repeating: 1.849_240_724e-01))
        p = fma(p, s, V(repeating: 1.128_379_177))
        var q = V(repeating: 6.258_311_654e-05)
        q = fma(q, s, V(repeating: 1.300_673_158e-03))
        q = fma(q, s, V(repeating: 1.541_851_386e-02))
        q = fma(q, s, V(repeating: 1.138_005_949e-01))
        q = fma(q, s, V(repeating: 4.972_181_719e-01))
        q = fma(q, s, V(repeating: 1))
        return x * p / q
    }

    @inline(__always)
    public static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7fff_ffff, to: V.self)
    }

    /// Applies `f` to `count` floats in place, eight at a time (the tail padded).
    @inline(__always)
    public static func map(_ x: UnsafeMutablePointer<Float>, count: Int, _ f: (V) -> V) {
        var i = 0
        while i + 8 <= count {
            let p = UnsafeMutableRawPointer(x + i)
            p.storeBytes(of: f(p.loadUnaligned(as: V.self)), as: V.self)
            i += 8
        }
        if i < count {
            var v = V(repeating: 0)
            for j in 0..<(count - i) { v[j] = x[i + j] }
            let r = f(v)
            for j in 0..<(count - i) { x[i + j] = r[j] }
        }
    }
}
