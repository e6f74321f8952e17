/// The processes one training run spans (data parallelism) and the few
/// operations they do together: element-wise sums of buffers (every process
/// receives the same result), the largest of one integer, and the gathering
/// of byte strings in rank order.
///
/// Every process calls the same operations in the same order with buffers of
/// the same size; a process that stops calling blocks the others, so a failing
/// process ends them all (`bsq-train` does that with MPI_Abort).
/// `SingleProcess` is the run of one process, where each operation leaves its
/// argument as it is, so a plain run computes exactly what it did before
/// runs could span processes.
public protocol Collective: AnyObject, Sendable {
    /// This process's index, 0..<size; rank 0 writes the run's files.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// values ← Σ over processes of values, element-wise.
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int)
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// The largest `value` of all processes.
    func maximum(_ value: Int) -> Int
    /// Every process's `bytes`, in rank order (on every process).
    func gather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Seconds spent in these operations (waiting for the others included)
    /// since the last call.
    func takeSeconds() -> Double
}

extension Collective {
    /// Σ over processes of one number.
    public func sum(_ value: Double) -> Double {
        guard size > 1 else { return value }
        var v = value
        sum(&v, count: 1)
        return v
    }

    /// Σ over processes of several numbers at once.
    public func sum(_ values: [Double]) -> [Double] {
        guard size > 1 else { return values }
        var v = values
        v.withUnsafeMutableBufferPointer { sum($0.baseAddress!, count: $0.count) }
        return v
    }

    /// Every process's `values`, in rank order.
    public func gather(_ values: [UInt64]) -> [[UInt64]] {
        guard size > 1 else { return [values] }
        return gather(values.withUnsafeBytes { Array($0) }).map { b in
            b.withUnsafeBytes { raw in (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) } }
        }
    }

    /// The part of `count` items (samples of a batch, utterances) this process
    /// takes: contiguous and balanced, as `--shard rank+1/size` divides inputs.
    public func part(of count: Int) -> Range<Int> { Shard(rank + 1, of: size).range(of: count) }
}

/// A run in one process.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) {}
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {}
    public func maximum(_ value: Int) -> Int { value }
    public func gather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    public func takeSeconds() -> Double { 0 }
}
