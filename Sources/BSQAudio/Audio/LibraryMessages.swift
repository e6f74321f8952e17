import CSndFile
#if canImport(Glibc)
import Glibc
#endif

/// What C libraries print on `stderr` while they work for one thread:
/// libmpg123, inside libsndfile, prints its decoding errors and notes there
/// ("[layer3.c:…] error: dequantization failed!"). The process's `stderr`
/// stream is replaced once by an unbuffered stream whose writes go to the
/// capturing thread's buffer, or straight to file descriptor 2 on any other
/// thread, so decoders on several threads each hear only their own messages.
enum LibraryMessages {
    /// The thread's capture buffer, when it captures.
    private final class Buffer { var bytes: [UInt8] = [] }

    private nonisolated(unsafe) static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        // replaced once, before any capture: fprintf(stderr, …) reads the variable at each call
        let io = bsq_cookie_io_functions(read: nil, write: { _, buf, size in
            guard let buf else { return 0 }
            if let p = pthread_getspecific(LibraryMessages.key) {
                Unmanaged<Buffer>.fromOpaque(p).takeUnretainedValue().bytes
                    .append(contentsOf: UnsafeRawBufferPointer(start: buf, count: size))
                return size
            }
            var done = 0
            while done < size {
                let r = Glibc.write(2, buf + done, size - done)
                if r <= 0 { break }
                done += r
            }
            return size
        }, seek: nil, close: nil)
        if let f = bsq_fopencookie(nil, "w", io) {
            setvbuf(f, nil, _IONBF, 0)
            bsq_set_stderr(f)
        }
        return k
    }()

    /// Runs `body`, returning its result and the lines the libraries printed
    /// on `stderr` from this thread meanwhile.
    static func capturing<T>(_ body: () throws -> T) rethrows -> (T, [String]) {
        let buffer = Buffer()
        let k = key
        let previous = pthread_getspecific(k)
        pthread_setspecific(k, Unmanaged.passUnretained(buffer).toOpaque())
        defer { pthread_setspecific(k, previous) }
        let result = try body()
        let lines = String(decoding: buffer.bytes, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        return (result, lines)
    }
}
