import BSQAudio
import CMPI
import Foundation

/// The processes of `mpirun -np N bsq-train train …` (or `srun`) as a
/// `Collective`: MPI_COMM_WORLD, its all-reduces and all-gathers. Calls come
/// from one thread at a time (MPI_THREAD_SERIALIZED); a failed call aborts
/// the job (MPI's default error handler), so no process waits forever.
public final class MPICollective: Collective, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Seconds spent in collective operations since the last `takeSeconds`.
    private var seconds = 0.0

    /// Whether this process was started by an MPI launcher (mpirun, mpiexec,
    /// srun with PMI or PMIx): then training spans its processes.
    public static var launched: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    /// Joins the job (MPI_Init_thread); call once, before any other thread starts MPI work.
    public init() throws {
        guard bsq_mpi_init() == 0 else { throw BSQError("MPI_Init failed") }
        rank = Int(bsq_mpi_rank())
        size = Int(bsq_mpi_size())
    }

    /// Largest count per call: MPI counts are C ints; big gradients go in pieces.
    static let piece = 1 << 26

    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) {
        timed { for o in stride(from: 0, to: count, by: Self.piece) { _ = bsq_mpi_sum_double(values + o, Int32(min(Self.piece, count - o))) } }
    }

    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        timed { for o in stride(from: 0, to: count, by: Self.piece) { _ = bsq_mpi_sum_float(values + o, Int32(min(Self.piece, count - o))) } }
    }

    public func maximum(_ value: Int) -> Int {
        var v = value
        timed { _ = bsq_mpi_max_long(&v) }
        return v
    }

    public func gather(_ bytes: [UInt8]) -> [[UInt8]] {
        precondition(bytes.count < Int(Int32.max), "gather: too many bytes")
        return timed {
            var counts = [Int32](repeating: 0, count: size)
            _ = bsq_mpi_allgather_int(Int32(bytes.count), &counts)
            var offsets = [Int32](repeating: 0, count: size), total = 0
            for r in 0..<size {
                offsets[r] = Int32(total)
                total += Int(counts[r])
                precondition(total < Int(Int32.max), "gather: too many bytes")
            }
            var all = [UInt8](repeating: 0, count: max(total, 1))
            _ = bsq_mpi_allgatherv_bytes(bytes, Int32(bytes.count), &all, counts, offsets)
            return (0..<size).map { r in Array(all[Int(offsets[r])..<(Int(offsets[r]) + Int(counts[r]))]) }
        }
    }

    public func takeSeconds() -> Double {
        defer { seconds = 0 }
        return seconds
    }

    private func timed<T>(_ body: () -> T) -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { seconds += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 }
        return body()
    }

    /// Leaves the job normally (every process, before it exits).
    public func finish() { _ = bsq_mpi_finalize() }

    /// Ends every process of the job with `status` (a process that failed).
    public func abort(status: Int32) -> Never {
        bsq_mpi_abort(status)
        exit(status)
    }
}
