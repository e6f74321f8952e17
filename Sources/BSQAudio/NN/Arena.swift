import Foundation

/// Float buffers for the activations of a pass, handed out from one block of
/// memory and taken back in stack order (`mark` / `release`), reused from
/// step to step and from chunk to chunk instead of allocating fresh arrays.
///
/// The block grows to what a pass needed: when a pass asked for more than it
/// holds, the extra comes from overflow blocks, and the next `reset` replaces
/// everything by one block of the high-water size, so that from the second
/// pass on nothing is allocated. Buffers are 64-byte aligned and their
/// contents undefined until written.
public final class Arena: @unchecked Sendable {
    private var main: AlignedFloats
    private var used = 0
    private var overflow: [AlignedFloats] = []
    private var overflowUsed = 0
    /// The most floats in use at once since the arena was made.
    public private(set) var highWater = 0

    public init(capacity: Int = 0) { main = AlignedFloats(count: capacity) }

    /// Floats the main block holds.
    public var capacity: Int { main.count }

    /// A buffer of `count` floats, valid until the arena is released below it or reset.
    public func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = (count + 15) & ~15
        defer { highWater = max(highWater, used + overflowUsed) }
        if overflow.isEmpty && used + n <= main.count {
            used += n
            return main.pointer + used - n
        }
        let block = AlignedFloats(count: n)
        overflow.append(block)
        overflowUsed += n
        return block.pointer
    }

    /// A buffer of `count` zeros.
    public func zeros(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = allocate(count)
        p.initialize(repeating: 0, count: count)
        return p
    }

    public struct Mark { fileprivate let used: Int, overflow: Int, overflowUsed: Int }

    public func mark() -> Mark { Mark(used: used, overflow: overflow.count, overflowUsed: overflowUsed) }

    /// Takes back every buffer handed out since `m`.
    public func release(_ m: Mark) {
        used = m.used
        overflow.removeLast(overflow.count - m.overflow)
        overflowUsed = m.overflowUsed
    }

    /// Takes back everything; grows the main block to the high-water size if a pass overflowed it.
    public func reset() {
        used = 0
        overflow.removeAll()
        overflowUsed = 0
        if highWater > main.count { main = AlignedFloats(count: highWater) }
    }
}
