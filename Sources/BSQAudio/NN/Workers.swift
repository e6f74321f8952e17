/// How a pass over `rows` token rows is cut into pieces for `threads`
/// workers (OpenBLAS pinned to one thread each): blocks of `blockRows` rows
/// for per-token layers, slices of `sliceRows` weight rows for weight
/// gradients; partial sums are added in block order, so results never depend
/// on the thread count. Inference takes blocks that divide the tokens of a
/// chunk: a block never straddles two chunks, and every number a chunk gets
/// is computed by the same calls whatever the batch size. Training takes
/// blocks of 256 rows across the whole batch (fewer, larger sgemms).
public struct Workers: Sendable {
    public let threads: Int
    public let rows: Int
    public let blockRows: Int
    public static let sliceRows = 64

    public init(threads: Int, rows: Int, blockRows: Int) {
        self.threads = max(1, threads)
        self.rows = rows
        self.blockRows = blockRows
    }

    /// Inference's block size for chunks of `n` tokens: 256, 128 or n, whichever divides n first.
    public static func chunkAlignedBlock(tokens n: Int) -> Int { n % 256 == 0 ? 256 : n % 128 == 0 ? 128 : n }
    public static let trainingBlock = 256

    public var blockCount: Int { (rows + blockRows - 1) / blockRows }

    /// `body(task, worker)` for tasks 0..<count.
    public func tasks(_ count: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        Parallel.forEach(count, threads: threads, body)
    }

    /// `body(firstRow, rowCount)` for every row block.
    public func rowBlocks(_ body: (_ r0: Int, _ n: Int) -> Void) {
        tasks(blockCount) { i, _ in body(i * blockRows, min(blockRows, rows - i * blockRows)) }
    }
}
