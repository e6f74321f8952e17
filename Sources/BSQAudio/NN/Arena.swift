import Foundation

/// Float buffers for the activations of a pass, handed out from one block of
/// memory and taken back in stack order (`mark` / `release`), reused from
/// step to step and from chunk to chunk instead of allocating fresh arrays.
///
/// Blocks are anonymous memory maps: the kernel hands out their pages on
/// first touch and takes them back whole when a block is dropped, so memory
/// that a pass no longer needs never lingers in the heap. When a pass asks
/// for more than the main block holds, the rest comes from overflow blocks
/// (at least 64 MB each); the next `reset` replaces everything by one main
/// block of the high-water size, so from the second pass on nothing is
/// mapped. Buffers are 64-byte aligned and their contents undefined until
/// written.
public final class Arena: @unchecked Sendable {
    private var main: Block
    private var used = 0
    private var overflow: [Block] = []
    private var overflowUsed = 0        // floats handed out from overflow blocks in all
    private var lastUsed = 0            // floats handed out from the last overflow block
    /// The most floats in use at once since the arena was made.
    public private(set) var highWater = 0
    static let overflowFloats = 16 << 20

    public init(capacity: Int = 0) { main = Block(floats: capacity) }

    /// Floats the main block holds.
    public var capacity: Int { main.floats }

    /// A buffer of `count` floats, valid until the arena is released below it or reset.
    public func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        precondition(count >= 0, "negative buffer size")
        let n = (count + 15) & ~15
        defer { highWater = max(highWater, used + overflowUsed) }
        if overflow.isEmpty && used + n <= main.floats {
            used += n
            return main.pointer + used - n
        }
        if let last = overflow.last, lastUsed + n <= last.floats {
            lastUsed += n
            overflowUsed += n
            return last.pointer + lastUsed - n
        }
        let block = Block(floats: max(n, Arena.overflowFloats))
        overflow.append(block)
        lastUsed = n
        overflowUsed += n
        return block.pointer
    }

    /// A buffer of `count` zeros.
    public func zeros(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = allocate(count)
        p.initialize(repeating: 0, count: count)
        return p
    }

    public struct Mark { fileprivate let used, blocks, lastUsed, overflowUsed: Int }

    public func mark() -> Mark { Mark(used: used, blocks: overflow.count, lastUsed: lastUsed, overflowUsed: overflowUsed) }

    /// Takes back every buffer handed out since `m`.
    public func release(_ m: Mark) {
        used = m.used
        overflow.removeLast(overflow.count - m.blocks)
        lastUsed = m.lastUsed
        overflowUsed = m.overflowUsed
    }

    /// Takes back everything; one main block of the high-water size if a pass overflowed it.
    public func reset() {
        used = 0
        overflow.removeAll()
        overflowUsed = 0
        lastUsed = 0
        if highWater > main.floats {
            main = Block(floats: 0)
            main = Block(floats: highWater)
        }
    }

    /// Takes back everything and unmaps it (memory back to the system); the
    /// next `reset` maps one block of the high-water size again.
    public func trim() {
        used = 0
        overflow.removeAll()
        overflowUsed = 0
        lastUsed = 0
        main = Block(floats: 0)
    }

    /// One anonymous memory map of `floats` floats (page aligned).
    private final class Block {
        let pointer: UnsafeMutablePointer<Float>
        let floats: Int
        private let bytes: Int

        init(floats: Int) {
            self.floats = floats
            bytes = max(floats, 1) * MemoryLayout<Float>.stride
            guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
                fatalError("out of memory mapping \(bytes) bytes")
            }
            pointer = p.bindMemory(to: Float.self, capacity: max(floats, 1))
        }

        deinit { munmap(pointer, bytes) }
    }
}
