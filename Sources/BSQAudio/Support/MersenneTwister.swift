/// MT19937 seeded as numpy's legacy `np.random.RandomState(seed)` is, with
/// its `random()` doubles, so that `mel2wav --seed N` draws the very phases
/// `librosa.griffinlim(..., random_state=N)` draws.
///
///     mt[0] = seed,  mt[i] = 1812433253 · (mt[i−1] ⊕ (mt[i−1] ≫ 30)) + i   (mod 2³²)
///     random() = ((a ≫ 5) · 2²⁶ + (b ≫ 6)) / 2⁵³   for two tempered outputs a, b
public struct MersenneTwister: Sendable {
    private var mt = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt32) {
        mt[0] = seed
        for i in 1..<624 { mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i) }
    }

    /// The next tempered 32-bit output.
    public mutating func next32() -> UInt32 {
        if index >= 624 { twist() }
        var y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// A double in [0, 1) with 53 random bits: numpy's `random_sample`.
    public mutating func uniform() -> Double {
        let a = Double(next32() >> 5), b = Double(next32() >> 6)
        return (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % 624] & 0x7fff_ffff)
            mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_b0df : 0)
        }
        index = 0
    }
}
