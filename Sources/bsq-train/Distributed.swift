import BSQAudio
import BSQAudioCLI
import BSQMPI
import Foundation

/// `bsq-train train` started by an MPI launcher (`mpirun -np N`, `srun`)
/// trains one model on the N processes; started alone, in this one.
enum Distributed {
    /// The processes of this run. Under a launcher: joins the MPI job, and
    /// from then on a failing process prints its line once and aborts the
    /// job (MPI_Abort: every process stops, the last checkpoint stays as it
    /// was), and a process that ends otherwise leaves the job first.
    static func join() throws -> Collective {
        guard MPICollective.launched else { return SingleProcess() }
        let job = try MPICollective()
        ToolProcess.leaving = { job.finish() }
        ToolProcess.failure = { message, status in
            // The same error usually stops every process at once: let rank 0
            // say it, and the others only if the job still runs a moment later.
            // (The abort reaches the others as SIGTERM: it must end them, not ask for a save.)
            for s in [SIGINT, SIGTERM] { signal(s, SIG_DFL) }
            if job.rank > 0 { usleep(300_000) }
            let who = job.rank > 0 ? "\(ToolProcess.name): rank \(job.rank) of \(job.size)" : ToolProcess.name
            FileHandleStderr.write("\(who): \(message)\n")
            job.abort(status: status)
        }
        return job
    }

    /// A batch too small to split over the processes, or data that only
    /// rank 0 would see (mpirun gives standard input to it alone).
    static func check(_ run: RunConfig, data: [String], on all: Collective) throws {
        guard all.size > 1 else { return }
        if run.train.batch < all.size {
            throw BSQError("train.batch is \(run.train.batch) but the run has \(all.size) processes: each needs at least one sample (raise --batch or start fewer)")
        }
        if data.contains("-") {
            throw BSQError("'-' (mel frames on standard input) reaches only the first of the \(all.size) processes; give the frames as a file")
        }
    }
}
