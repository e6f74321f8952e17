#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered reads from a file descriptor that never seek (but `skip` may, on a
/// regular file): a pipe works as well as a file.
public final class ByteSource {
    public let fd: Int32
    public let name: String
    private let ownsDescriptor: Bool
    private var buffer: UnsafeMutableRawPointer
    private let capacity = 1 << 18
    private var start = 0
    private var end = 0
    /// Bytes handed out so far: the stream offset of the next byte.
    public private(set) var offset = 0

    public init(fd: Int32, name: String, ownsDescriptor: Bool = false) {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = ownsDescriptor
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    /// Opens `path` for reading; `-` is standard input.
    public convenience init(path: String) throws {
        if path == "-" {
            self.init(fd: 0, name: "-")
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw BSQError("\(path): is a directory")
        }
        self.init(fd: fd, name: path, ownsDescriptor: true)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(fd) }
    }

    private func rawRead(_ p: UnsafeMutableRawPointer, _ n: Int) throws -> Int {
        while true {
            let r = Glibc.read(fd, p, n)
            if r >= 0 { return r }
            if errno == EINTR { continue }
            throw BSQError("\(name): read failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads up to `count` bytes into `dst`; fewer only at end of input.
    public func read(into dst: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var done = 0
        let buffered = min(end - start, count)
        if buffered > 0 {
            dst.copyMemory(from: buffer + start, byteCount: buffered)
            start += buffered
            done = buffered
        }
        while done < count {
            let want = count - done
            if want >= capacity {
                let r = try rawRead(dst + done, want)
                if r == 0 { break }
                done += r
            } else {
                start = 0
                end = try rawRead(buffer, capacity)
                if end == 0 { break }
                let k = min(end, want)
                (dst + done).copyMemory(from: buffer, byteCount: k)
                start = k
                done += k
            }
        }
        offset += done
        return done
    }

    /// Passes over `count` bytes without reading them where the input can seek
    /// (a regular file); returns how many were passed, fewer only at the end of input.
    public func skip(_ count: Int) throws -> Int {
        let buffered = min(end - start, count)
        start += buffered
        var done = buffered
        var st = stat()
        if done < count, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            let here = lseek(fd, 0, SEEK_CUR)
            if here >= 0 {
                let k = min(count - done, max(0, Int(st.st_size) - Int(here)))
                if lseek(fd, off_t(k), SEEK_CUR) >= 0 { done += k }
            }
        }
        offset += done
        var scratch = [UInt8](repeating: 0, count: min(count - done, 1 << 16))
        while done < count {
            let n = try scratch.withUnsafeMutableBytes { try read(into: $0.baseAddress!, count: min($0.count, count - done)) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// True when no byte is left.
    public func atEnd() throws -> Bool {
        if start < end { return false }
        start = 0
        end = try rawRead(buffer, capacity)
        return end == 0
    }

    /// Reads all remaining bytes (for whole-file inputs such as audio on stdin or .npy files).
    public func readAll(limit: Int = Int.max) throws -> [UInt8] {
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0.baseAddress!, count: $0.count) }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw BSQError("\(name): larger than \(limit) bytes") }
            if n < chunk.count { return out }
        }
    }
}
