import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// What every tool's entry point shares: errors as one `tool: message` line
/// on stderr with a nonzero exit, data only on stdout, quiet death on SIGPIPE.
public protocol ToolCommand: ParsableCommand {}

extension ToolCommand {
    public static func main() {
        ToolProcess.start()
        let tool = configuration.commandName ?? String(describing: Self.self)
        ToolProcess.name = tool
        do {
            var command = try parseAsRoot()
            try command.run()
            try ToolProcess.finish()
        } catch let e as BSQError {
            ToolProcess.fail(e.message)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            ToolProcess.fail(message, status: code == .validationFailure ? 64 : code.rawValue)
        }
        Glibc.exit(0)
    }
}

/// Process-wide state of a running tool.
public enum ToolProcess {
    nonisolated(unsafe) public static var name = "bsq"
    nonisolated(unsafe) private static var cleanups: [String] = []

    static func start() {
        signal(SIGPIPE, SIG_DFL)
        for s in [SIGINT, SIGTERM] {
            signal(s) { sig in
                ToolProcess.removeTemporaries()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }

    /// SIGINT or SIGTERM received since `deferInterrupts()` (0: none).
    nonisolated(unsafe) public static var interruption: Int32 = 0

    /// From now on the first SIGINT or SIGTERM only sets `interruption`, for a
    /// long job to finish its unit of work and save; a second one ends the tool.
    public static func deferInterrupts() {
        for s in [SIGINT, SIGTERM] {
            signal(s) { sig in
                if ToolProcess.interruption != 0 {
                    ToolProcess.removeTemporaries()
                    signal(sig, SIG_DFL)
                    raise(sig)
                }
                ToolProcess.interruption = sig
            }
        }
    }

    static func finish() throws {
        try StandardOutput.shared.flush()
    }

    /// Ends the tool with `status` after flushing standard output (for a job
    /// that stopped early on purpose, e.g. 128 + the signal that interrupted it).
    public static func end(status: Int32) -> Never {
        removeTemporaries()
        try? StandardOutput.shared.flush()
        Glibc.exit(status)
    }

    /// Prints `tool: message` and exits with `status`, removing temporary files first.
    public static func fail(_ message: String, status: Int32 = 1) -> Never {
        removeTemporaries()
        try? StandardOutput.shared.flush()
        FileHandleStderr.write("\(name): \(message)\n")
        Glibc.exit(status)
    }

    /// Prints an error line about one input of a batch without stopping.
    public static func report(_ message: String) {
        FileHandleStderr.write("\(name): \(message)\n")
    }

    /// Ends a batch: `processed N of M` on stderr when there were several
    /// inputs, and exit status 1 when any input failed.
    public static func finishBatch(processed: Int, of total: Int) throws {
        if total > 1 { report("processed \(processed) of \(total)") }
        if processed < total {
            try StandardOutput.shared.flush()
            exit(1)
        }
    }

    /// Prints a warning line without stopping.
    public static func warn(_ message: String) {
        FileHandleStderr.write("\(name): warning: \(message)\n")
    }

    /// Ends the process the way a write to a closed pipe does.
    public static func diedOfSIGPIPE() -> Never {
        removeTemporaries()
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        exit(128 + SIGPIPE)
    }

    static let lock = NSLockLite()

    /// Registers a temporary file to delete if the tool fails or is interrupted.
    public static func registerTemporary(_ path: String) { lock.sync { cleanups.append(path) } }
    public static func unregisterTemporary(_ path: String) { lock.sync { cleanups.removeAll { $0 == path } } }
    static func removeTemporaries() { for p in cleanups { unlink(p) } }
}

/// A tiny mutex (pthread) usable from signal-free code paths.
final class NSLockLite: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    func sync<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}

/// Unbuffered stderr lines.
public enum FileHandleStderr {
    public static func write(_ s: String) {
        var bytes = Array(s.utf8)
        bytes.withUnsafeMutableBytes { b in
            var done = 0
            while done < b.count {
                let r = Glibc.write(2, b.baseAddress! + done, b.count - done)
                if r <= 0 { return }
                done += r
            }
        }
    }
    public static var isTerminal: Bool { isatty(2) != 0 }
}

/// The process's frame output on stdout, flushed when the tool finishes.
public enum StandardOutput {
    nonisolated(unsafe) public static var shared = FrameWriter()
}
