#if canImport(Glibc)
import Glibc
#endif

/// A file written under a temporary name beside its destination and renamed
/// into place only by `commit()`: a failed run leaves nothing a user could
/// take for a result, and never clobbers what was there.
public final class AtomicFile {
    public let path: String
    public let temporaryPath: String
    public let fd: Int32
    private var done = false

    public init(path: String) throws {
        self.path = path
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(dir.isEmpty ? "/" : dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        fchmod(fd, 0o644)
        TemporaryFiles.register(temporaryPath)
    }

    /// Writes bytes to the temporary file.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let r = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if r < 0 {
                    if errno == EINTR { continue }
                    throw BSQError("\(path): \(String(cString: strerror(errno)))")
                }
                off += r
            }
        }
    }

    /// Moves the finished file into place.
    public func commit() throws {
        guard !done else { return }
        done = true
        fsync(fd)
        close(fd)
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw BSQError("\(path): \(reason)")
        }
        TemporaryFiles.unregister(temporaryPath)
    }

    /// Throws the temporary file away.
    public func discard() {
        guard !done else { return }
        done = true
        close(fd)
        unlink(temporaryPath)
        TemporaryFiles.unregister(temporaryPath)
    }

    deinit { discard() }
}

/// The temporary files of `AtomicFile`s not yet committed or discarded: what
/// a tool stopped by an error or a signal deletes (`removeAll`) on its way out.
public enum TemporaryFiles {
    nonisolated(unsafe) private static var paths: [String] = []
    private static let lock = NSLockLite()

    public static func register(_ path: String) { lock.sync { paths.append(path) } }
    public static func unregister(_ path: String) { lock.sync { paths.removeAll { $0 == path } } }

    /// Unlinks every registered file (only unlink(2): callable from a signal handler).
    public static func removeAll() { for p in paths { unlink(p) } }
}
