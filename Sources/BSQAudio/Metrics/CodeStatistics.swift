import Foundation

/// Statistics of the tokens of a codes stream, for one utterance or pooled
/// over many (`merge`). With N tokens of `bits` bits standing for S seconds
/// of mel frames (S = frames · hop_length / sample_rate), nᵥ the count of
/// token value v, and oₖ the count of tokens whose coordinate k (bit
/// bits − 1 − k, bsqt(5)) is 1:
///
///     tokens/s    = N / S
///     bits/s      = N · bits / S
///     distinct    = #{v : nᵥ > 0},   usage = distinct / 2^bits
///     entropy     H = −Σᵥ (nᵥ/N) log2(nᵥ/N)       bits per token
///     perplexity  = 2^H
///     bit entropy hₖ = −pₖ log2 pₖ − (1 − pₖ) log2(1 − pₖ),  pₖ = oₖ / N
public struct CodeStatistics: Sendable, Equatable {
    public let bits: Int
    public private(set) var tokens = 0
    public private(set) var seconds = 0.0
    public private(set) var counts: [UInt64: Int] = [:]
    /// oₖ for each coordinate k, most significant bit first.
    public private(set) var ones: [Int]

    public init(bits: Int) {
        precondition(bits >= 1 && bits <= 64, "bits out of range")
        self.bits = bits
        ones = [Int](repeating: 0, count: bits)
    }

    /// Adds the covered tokens of one codes frame (those of its time patches
    /// that hold mel frames, not the padding of its last chunk).
    public mutating func add(_ codes: CodesFrame) {
        add(tokens: codes.coveredTokens, seconds: codes.seconds)
    }

    /// Adds tokens that stand for `seconds` of audio.
    public mutating func add<C: Collection<UInt64>>(tokens values: C, seconds: Double) {
        for v in values {
            counts[v, default: 0] += 1
            var rest = v
            while rest != 0 {
                let b = rest.trailingZeroBitCount
                ones[bits - 1 - b] += 1
                rest &= rest - 1
            }
        }
        tokens += values.count
        self.seconds += seconds
    }

    /// Pools another utterance's statistics into these (same `bits`).
    public mutating func merge(_ o: CodeStatistics) {
        precondition(o.bits == bits, "bits differ")
        tokens += o.tokens
        seconds += o.seconds
        counts.merge(o.counts, uniquingKeysWith: +)
        for k in 0..<bits { ones[k] += o.ones[k] }
    }

    public var tokensPerSecond: Double { Double(tokens) / seconds }
    public var bitsPerSecond: Double { tokensPerSecond * Double(bits) }
    public var distinct: Int { counts.count }
    public var usage: Double { Double(distinct) / pow(2, Double(bits)) }
    /// In bits per token; 0 without tokens. Summed over the sorted counts, so
    /// the result does not depend on the order of a hash table.
    public var entropy: Double {
        guard tokens > 0 else { return 0 }
        let n = Double(tokens)
        return -counts.values.sorted().reduce(0.0) { h, c in
            let p = Double(c) / n
            return h + p * log2(p)
        }
    }
    public var perplexity: Double { pow(2, entropy) }
    /// hₖ for each coordinate k, most significant bit first.
    public var bitEntropy: [Double] {
        ones.map { o in
            guard tokens > 0 else { return 0 }
            let p = Double(o) / Double(tokens)
            return (p > 0 ? -p * log2(p) : 0) - (p < 1 ? (1 - p) * log2(1 - p) : 0)
        }
    }
}
