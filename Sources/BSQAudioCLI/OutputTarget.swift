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

    /// Checks, before any work, that the output can be made: a file's folder
    /// exists and takes files, a file target is not a folder, and no input
    /// (of `inputs`, paths as given) is the output itself.
    public func check(inputs: [String] = []) throws {
        let path: String
        switch self {
        case .standardOutput: return
        case .file(let p):
            path = p
            var isDir: ObjCBool = false
            if p.hasSuffix("/") || (FileManager.default.fileExists(atPath: p, isDirectory: &isDir) && isDir.boolValue) {
                throw BSQError("cannot write output \(p): it is a folder, and this tool writes one stream (give a file name)")
            }
        case .folder(let p):
            // made with its missing parents: the nearest folder that exists must take new entries
            var isDir: ObjCBool = false
            var q = p.hasSuffix("/") && p.count > 1 ? String(p.dropLast()) : p
            while !FileManager.default.fileExists(atPath: q, isDirectory: &isDir) {
                guard let slash = q.lastIndex(of: "/") else { q = "."; continue }
                q = slash == q.startIndex ? "/" : String(q[..<slash])
            }
            if !isDir.boolValue { throw BSQError("cannot create output folder \(p): \(q) is a file") }
            if access(q, W_OK) != 0 { throw BSQError("cannot create output folder \(p): \(String(cString: strerror(errno))) in \(q)") }
            return
        }
        let parent = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let folder = parent.isEmpty ? "/" : parent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) else {
            throw BSQError("cannot create output \(path): no such folder \(folder)")
        }
        guard isDir.boolValue else { throw BSQError("cannot create output \(path): \(folder) is not a folder") }
        var out = stat()
        let exists = stat(path, &out) == 0
        if !exists || (out.st_mode & S_IFMT) == S_IFREG, access(folder, W_OK) != 0 {
            throw BSQError("cannot create output \(path): \(String(cString: strerror(errno))) in \(folder)")
        }
        guard exists, (out.st_mode & S_IFMT) == S_IFREG else { return }
        for input in inputs where input != "-" {
            var st = stat()
            if stat(input, &st) == 0, st.st_dev == out.st_dev, st.st_ino == out.st_ino {
                throw BSQError("refusing to write output \(path) over the input \(input)")
            }
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
