import BSQAudio
#if canImport(Glibc)
import Glibc
#endif

/// An unlinked file in /dev/shm (memory) that each fuzz input is written
/// into, so that the library's real entry points that take a path or a file
/// descriptor (`FrameReader`, `SafeTensors`, `Checkpoint`) read it as they
/// would a file. Nothing is left behind when the process ends.
public final class MemFile: @unchecked Sendable {
    public let fd: Int32
    /// A path that opens the same file (`/proc/self/fd/N`).
    public let path: String

    public init(name: String) {
        let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(dir)/\(name)-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        precondition(fd >= 0, "mkstemp failed: \(String(cString: strerror(errno)))")
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.fd = fd
        path = "/proc/self/fd/\(fd)"
    }

    /// Replaces the contents with `bytes` and rewinds the descriptor.
    public func set(_ bytes: UnsafeRawBufferPointer) {
        precondition(ftruncate(fd, 0) == 0)
        var done = 0
        while done < bytes.count {
            let r = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(done))
            precondition(r > 0, "pwrite failed")
            done += r
        }
        precondition(lseek(fd, 0, SEEK_SET) == 0)
    }

    public func set(_ bytes: [UInt8]) { bytes.withUnsafeBytes { set($0) } }
}

/// BSQ_FUZZ_STRICT=1: also trap when a round trip (write then read back) does
/// not give back what was read. Off by default: a mismatch is a correctness
/// finding to look at, not a memory-safety one.
public let strict: Bool = getenv("BSQ_FUZZ_STRICT").map { String(cString: $0) == "1" } ?? false

/// Traps with `message` in strict mode; prints it once otherwise.
public func roundTrip(_ ok: Bool, _ message: @autoclosure () -> String) {
    if ok { return }
    if strict { fatalError("round trip: \(message())") }
    if !warned {
        warned = true
        let line = Array("fuzz: round trip mismatch (BSQ_FUZZ_STRICT=1 traps): \(message())\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
nonisolated(unsafe) private var warned = false

/// The fuzz input as an array.
public func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// Everything the tools look at in a decoded frame: the kinds' readers
/// (mel, codes and their metadata), the summary of `bsq-tensor info`, the
/// `.npy` export, and a write/read round trip plain and with zstd.
public func exercise(_ frame: Frame, stored: StoredFrame?, index: Int) {
    _ = frame.label(index: index)
    if let stored {
        let s = FrameSummary(stored, index: index)
        _ = s.text()
        _ = s.json()
    }
    if let mel = try? MelFrame(frame) {
        _ = try? mel.analysis()
        _ = mel.topDB
        _ = mel.crop
        _ = mel.isDecoded
        _ = mel.source
    }
    if let codes = try? CodesFrame(frame) {
        _ = codes.model
        _ = codes.seconds
    }
    if let a = frame.meta["mel"] { _ = try? MelAnalysis(metadata: a) }
    // .npy export (`bsq-tensor to-npy`) and back (`from-npy`)
    if frame.payload.count <= 1 << 20 {
        let npy = Npy.encode(frame)
        if let back = try? Npy.decode(npy, name: "roundtrip") {
            roundTrip(back.dims == frame.dims && back.dtype == frame.dtype && back.payload == frame.payload,
                      ".npy of \(frame.dtype.name) \(frame.dims) does not read back")
        } else {
            roundTrip(false, ".npy of \(frame.dtype.name) \(frame.dims) is refused")
        }
        for zstd in [false, true] {
            guard let encoded = try? FrameWriter.encode(frame, zstd: zstd) else { continue }
            let m = MemFile.scratch
            m.set(encoded)
            let r = FrameReader(ByteSource(fd: m.fd, name: "roundtrip"))
            do {
                let back = try r.next()
                roundTrip(back.map { $0.dims == frame.dims && $0.dtype == frame.dtype && $0.payload == frame.payload } ?? false,
                          "frame \(frame.dtype.name) \(frame.dims) zstd \(zstd) does not read back")
                roundTrip(back?.meta == frame.meta,
                          "metadata \(JSONValue.object(frame.meta).serialized()) does not read back as it was")
            } catch {
                roundTrip(false, "frame \(frame.dtype.name) \(frame.dims) zstd \(zstd) written, then refused: \(error)")
            }
        }
    }
}

extension MemFile {
    /// A second in-memory file for round trips.
    public static let scratch = MemFile(name: "bsq-fuzz-scratch")
}
