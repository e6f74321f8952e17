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
    /// Whether `path` is a device, FIFO or socket, written through in place
    /// (there is nothing to rename over, and replacing it would take it away from its readers).
    public let direct: Bool
    private var done = false

    /// A symbolic link is followed: its target is replaced and the link kept.
    public init(path: String) throws {
        self.path = path
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG, (st.st_mode & S_IFMT) != S_IFDIR {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
            self.fd = fd
            temporaryPath = path
            direct = true
            return
        }
        var target = path
        var lst = stat()
        if lstat(path, &lst) == 0, (lst.st_mode & S_IFMT) == S_IFLNK {
            guard let real = realpath(path, nil) else { throw BSQError("\(path): a symbolic link to nothing (\(String(cString: strerror(errno))))") }
            target = String(cString: real)
            free(real)
        }
        let dir = target.contains("/") ? String(target[..<target.lastIndex(of: "/")!]) : "."
        let base = target.split(separator: "/").last.map(String.init) ?? target
        var template = Array("\(dir.isEmpty ? "/" : dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
        direct = false
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        destination = target
        fchmod(fd, 0o644)
        TemporaryFiles.register(temporaryPath)
    }

    /// Where `commit` renames the temporary file to: `path`, or the target of the link it is.
    private var destination: String?

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
        if direct { close(fd); return }
        fsync(fd)
        close(fd)
        guard rename(temporaryPath, destination ?? path) == 0 else {
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
        if direct { return }
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
