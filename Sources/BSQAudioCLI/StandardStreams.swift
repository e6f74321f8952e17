import BSQAudio
#if canImport(Glibc)
import Glibc
#endif

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

    /// Binary output goes to a file or a pipe, never to a terminal (as zstd(1) refuses to).
    public static func checkNotTerminal() throws {
        if isatty(1) != 0 { throw BSQError("standard output is a terminal: redirect it to a file or a pipe, or give -o") }
    }
}

/// Lines of text on standard output, buffered; a closed reader ends the process quietly.
public struct TextOutput {
    private var buffer: [UInt8] = []
    public init() {}

    public mutating func line(_ s: String) throws {
        buffer += Array(s.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes what is buffered; a failed write (a full disk, a closed
    /// standard output) is an error, a reader gone away is SIGPIPE's exit.
    public mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let w = FrameWriter(fd: 1)
        do { try w.writeRaw(buffer) } catch is BrokenPipe { ToolProcess.diedOfSIGPIPE() }
        buffer.removeAll(keepingCapacity: true)
    }
}
