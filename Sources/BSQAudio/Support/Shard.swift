/// One of N contiguous, balanced parts of a sequence (`--shard K/N`, K from 1).
///
/// Of M items, part K holds the items ⌊(K−1)·M/N⌋ ..< ⌊K·M/N⌋: parts 1…N in
/// order are the whole sequence, each item in exactly one part, and part sizes
/// differ by at most one. A part may be empty (N > M).
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// The largest N accepted.
    public static let maxParts = 1_000_000

    /// K, 1 ≤ K ≤ N.
    public let index: Int
    /// N, 1 ≤ N ≤ `maxParts`.
    public let count: Int

    public init(_ index: Int, of count: Int) {
        precondition((1...Shard.maxParts).contains(count) && (1...count).contains(index), "shard \(index)/\(count)")
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (decimal digits); the error names the option and says what is wrong.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }) else {
            throw BSQError("--shard \(text): expected K/N, the K-th of N parts (K from 1 to N, e.g. 1/4 … 4/4)")
        }
        let k = Int(parts[0]) ?? Int.max, n = Int(parts[1]) ?? Int.max
        guard (1...Shard.maxParts).contains(n) else { throw BSQError("--shard \(text): N must be in 1...\(Shard.maxParts)") }
        guard (1...n).contains(k) else { throw BSQError("--shard \(text): K must be in 1...\(n)") }
        self.init(k, of: n)
    }

    /// The indices of this part of `total` items.
    public func range(of total: Int) -> Range<Int> {
        precondition(total >= 0)
        func bound(_ k: Int) -> Int { count.dividingFullWidth(k.multipliedFullWidth(by: total)).quotient }
        return bound(index - 1)..<bound(index)
    }

    /// This part of `items`.
    public func part<T>(of items: [T]) -> [T] { Array(items[range(of: items.count)]) }

    public var description: String { "\(index)/\(count)" }
}
