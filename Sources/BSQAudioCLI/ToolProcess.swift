import BSQAudio
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide state of a running tool: its name in messages, its signal
/// handling, and how it ends.
public enum ToolProcess {
    nonisolated(unsafe) public static var name = "bsq"

    /// SIGPIPE ends the tool quietly; SIGINT and SIGTERM remove its temporary files first.
    static func start() {
        signal(SIGPIPE, SIG_DFL)
        for s in [SIGINT, SIGTERM] {
            signal(s) { sig in
                TemporaryFiles.removeAll()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }

    /// From now on the first SIGINT, SIGTERM or SIGUSR1 only sets `Interruption.signal`,
    /// for a long job to finish its unit of work and save; a second one ends the tool.
    /// (SIGUSR1 is the one Open MPI's mpirun passes on to its processes, and
    /// Slurm's `--signal` sends before a time limit.)
    public static func deferInterrupts() {
        for s in [SIGINT, SIGTERM, SIGUSR1] {
            signal(s) { sig in
                if Interruption.signal != 0 {
                    TemporaryFiles.removeAll()
                    signal(sig, SIG_DFL)
                    raise(sig)
                }
                Interruption.signal = sig
            }
        }
    }

    static func finish() throws {
        try StandardOutput.shared.flush()
    }

    /// Ends the tool with `status` after flushing standard output (for a job
    /// that stopped early on purpose, e.g. 128 + the signal that interrupted it).
    public static func end(status: Int32) -> Never {
        TemporaryFiles.removeAll()
        try? StandardOutput.shared.flush()
        leaving?()
        Glibc.exit(status)
    }

    /// Prints `tool: message` and exits with `status`, removing temporary files
    /// first (through `failure` when set: a process of an MPI job ends the job).
    public static func fail(_ message: String, status: Int32 = 1) -> Never {
        TemporaryFiles.removeAll()
        try? StandardOutput.shared.flush()
        if let failure { failure(message, status) }
        FileHandleStderr.write("\(name): \(message)\n")
        Glibc.exit(status)
    }

    /// Instead of printing a failure's line and exiting: a data-parallel
    /// trainer prints it once and aborts every process of its job.
    nonisolated(unsafe) public static var failure: ((_ message: String, _ status: Int32) -> Never)?
    /// Runs before the tool exits without failing (an MPI process leaves its job).
    nonisolated(unsafe) public static var leaving: (() -> Void)?

    /// Prints an error line about one input of a batch without stopping.
    public static func report(_ message: String) {
        FileHandleStderr.write("\(name): \(message)\n")
    }

    /// Prints a warning line without stopping.
    public static func warn(_ message: String) {
        FileHandleStderr.write("\(name): warning: \(message)\n")
    }

    /// The library's diagnostics as `tool: message` and `tool: warning: message`
    /// lines (without the warnings when `quiet`).
    public static func diagnostics(quiet: Bool = false) -> Diagnostics {
        Diagnostics(problem: { report($0) }, warning: { if !quiet { warn($0) } })
    }

    /// Ends a batch: `processed N of M` on stderr when there were several
    /// inputs (with `quiet`, only when some failed: then it sums up the
    /// errors above it), and exit status 1 when any input failed.
    public static func finishBatch(processed: Int, of total: Int, quiet: Bool = false) throws {
        if total > 1 && (!quiet || processed < total) { report("processed \(processed) of \(total)") }
        if processed < total {
            try StandardOutput.shared.flush()
            exit(1)
        }
    }

    /// Ends the process the way a write to a closed pipe does.
    public static func diedOfSIGPIPE() -> Never {
        TemporaryFiles.removeAll()
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        exit(128 + SIGPIPE)
    }
}

extension ToolProcess {
    /// Reports how a training run ended (`step N of M: saved FILE`, and the
    /// BLAS profile when asked for); an interrupted one exits with 128 + the signal.
    /// A process of a data-parallel run other than rank 0 says nothing (`silent`).
    public static func finishRun(_ outcome: Trainer.Outcome, step: Int, of steps: Int, directory: String, quiet: Bool, silent: Bool = false) {
        switch outcome {
        case .finished(let saved):
            if !quiet && !silent { report("step \(step) of \(steps): saved \(saved)") }
            if let profile = BLAS.profileSummary, !silent { report(profile) }
        case .interrupted(let signal, let saved):
            if !silent { report("interrupted at step \(step); saved \(saved) (continue with --resume \(directory))") }
            end(status: 128 + signal)
        }
    }
}
