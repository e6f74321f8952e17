import BSQAudio
import Foundation

/// Where a tool's `-o` sends its output: standard output (no `-o`), a file
/// written atomically (under a temporary name beside it, renamed into place
/// only when the run succeeds), or a folder, for a tool that writes one
/// file per frame.
public enum OutputTarget: Equatable {
    case standardOutput
    case file(String)
    case folder(String)

    /// `-o PATH` (nil: no `-o`). With `folders`, a PATH ending in / or naming
    /// an existing folder is a folder; otherwise it is always a file.
    public init(_ option: String?, folders: Bool = false) {
        guard let path = option else { self = .standardOutput; return }
        var isDir: ObjCBool = false
        if folders && (path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue)) {
            self = .folder(path)
        } else {
            self = .file(path)
        }
    }

    /// Runs `body` with a frame writer to standard output or to the file.
    /// The file is put in place when `body` returns and `keep` accepts what
    /// it returned; it is removed otherwise, and when `body` throws.
    @discardableResult
    public func withFrameWriter<R>(zstd: Bool = false, keep: (R) -> Bool = { _ in true },
                                   _ body: (FrameWriter) throws -> R) throws -> R {
        switch self {
        case .standardOutput:
            try StandardOutput.checkNotTerminal()
            StandardOutput.shared.zstd = zstd
            return try body(StandardOutput.shared)
        case .file(let path):
            let file = try AtomicFile(path: path)
            let writer = FrameWriter(fd: file.fd, name: path, zstd: zstd)
            let result = try body(writer)
            try writer.flush()
            if keep(result) { try file.commit() } else { file.discard() }
            return result
        case .folder(let path):
            preconditionFailure("\(path): frames go to a file or standard output")
        }
    }
}

extension VocoderBatch.Destination {
    /// Standard output, a file or a folder, as `-o` says.
    public init(_ target: OutputTarget) {
        switch target {
        case .standardOutput: self = .writer(StandardOutput.shared)
        case .file(let path): self = .file(path)
        case .folder(let path): self = .folder(path)
        }
    }
}
