import CSndFile
#if canImport(Glibc)
import Glibc
#endif

/// An audio file opened with libsndfile (wav, flac, ogg/vorbis, opus, mp3, aiff…),
/// read as normalized float samples, interleaved by channel: what
/// `soundfile.read(dtype="float32")` returns.
public final class SoundFile {
    public let channels: Int
    public let sampleRate: Int
    /// The frame count the container announces (an estimate for some mp3s).
    public let announcedFrames: Int
    public let name: String
    private let handle: OpaquePointer
    private let memory: MemoryStream?

    /// Opens a file on disk.
    public init(path: String) throws {
        var info = SF_INFO()
        var st = stat()
        if stat(path, &st) != 0 { throw BSQError("\(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw BSQError("\(path): is a folder") }
        let headerless = BSQError("\(path): not an audio file libsndfile reads (\(st.st_size) bytes, no header it knows)")
        if (st.st_mode & S_IFMT) == S_IFREG, st.st_size < 12 { throw headerless }          // smaller than any container's header
        let (opened, messages) = LibraryMessages.capturing { sf_open(path, Int32(SFM_READ), &info) }
        guard let h = opened else {
            let message = SoundFile.lastError(nil)
            // libsndfile says this of a regular file too short for any header
            if message.contains("possibly a pipe"), (st.st_mode & S_IFMT) == S_IFREG { throw headerless }
            throw BSQError("\(path): \(message)")
        }
        handle = h
        memory = nil
        name = path
        channels = Int(info.channels)
        sampleRate = Int(info.samplerate)
        announcedFrames = Int(info.frames)
        try validate()
        try SoundFile.checkDecoder(messages, name: name)
    }

    /// Opens a whole audio file held in memory (stdin is read this way: the
    /// decoders need to seek, which a pipe cannot).
    public init(bytes: [UInt8], name: String) throws {
        let stream = MemoryStream(bytes)
        var io = SF_VIRTUAL_IO(
            get_filelen: { user in MemoryStream.from(user).length },
            seek: { offset, whence, user in MemoryStream.from(user).seek(offset, whence) },
            read: { ptr, count, user in MemoryStream.from(user).read(ptr, count) },
            write: { _, _, _ in 0 },
            tell: { user in MemoryStream.from(user).position })
        var info = SF_INFO()
        let (opened, messages) = LibraryMessages.capturing {
            sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(stream).toOpaque())
        }
        guard let h = opened else { throw BSQError("\(name): \(SoundFile.lastError(nil))") }
        handle = h
        memory = stream
        self.name = name
        channels = Int(info.channels)
        sampleRate = Int(info.samplerate)
        announcedFrames = Int(info.frames)
        try validate()
        try SoundFile.checkDecoder(messages, name: name)
    }

    /// The most channels a file may have (libsndfile's own limit).
    public static let maxChannels = 1024
    /// The lowest sample rate of a file read: below it is no audio to speak
    /// of, and resampling it to 16 kHz would make thousands of samples of
    /// each one (a 16 KB file of 2 Hz samples gave 17 minutes).
    public static let minSampleRate = 1000

    private func validate() throws {
        if channels < 1 { throw BSQError("\(name): no audio channels") }
        if channels > SoundFile.maxChannels { throw BSQError("\(name): \(channels) channels, more than the limit of \(SoundFile.maxChannels)") }
        if sampleRate < SoundFile.minSampleRate || sampleRate > MelAnalysis.maxSampleRate {
            throw BSQError("\(name): sample rate \(sampleRate) Hz is outside \(SoundFile.minSampleRate)...\(MelAnalysis.maxSampleRate)")
        }
    }

    deinit { sf_close(handle) }

    /// Reads up to `frames` frames (each `channels` samples) into `buffer`;
    /// returns how many were read, 0 at the end.
    public func read(into buffer: UnsafeMutablePointer<Float>, frames: Int) throws -> Int {
        let (count, messages) = LibraryMessages.capturing { sf_readf_float(handle, buffer, sf_count_t(frames)) }
        try SoundFile.checkDecoder(messages, name: name)
        let got = Int(count)
        if got < frames, sf_error(handle) != 0 {
            throw BSQError("\(name): decoding failed: \(SoundFile.lastError(handle))")
        }
        return got
    }

    /// What the decoders inside libsndfile printed (libmpg123 alone prints):
    /// an error ("[layer3.c:…] error: dequantization failed!") means frames
    /// of the stream were lost, and the input is refused; notes (skipped
    /// bytes while resynchronizing on frame headers, as after junk or a tag)
    /// are dropped, since decoding resumes on the next whole frame.
    static func checkDecoder(_ messages: [String], name: String) throws {
        let errors = messages.compactMap { line -> Substring? in
            guard let at = line.firstRange(of: "error:") else { return nil }
            return line[at.upperBound...].drop { $0 == " " }
        }
        guard var what = errors.first else { return }
        while what.hasSuffix("!") || what.hasSuffix(".") { what.removeLast() }
        let more = errors.count - 1
        throw BSQError("\(name): corrupt MPEG audio (libmpg123: \(what)\(more > 0 ? ", and \(more) more error\(more == 1 ? "" : "s")" : ""))")
    }

    /// libsndfile's message, without its "System error : " prefix and final period.
    private static func lastError(_ h: OpaquePointer?) -> String {
        var s = String(cString: sf_strerror(h))
        if s.hasPrefix("System error : ") { s.removeFirst("System error : ".count) }
        while s.hasSuffix(".") || s.hasSuffix("\n") { s.removeLast() }
        return s.isEmpty ? "unreadable audio" : s
    }

    /// Containers and encodings the kit writes.
    public enum Format: String, Sendable, CaseIterable {
        case wav16 = "wav", wavFloat = "wav-float", flac, ogg, opus, mp3
        var code: Int32 {
            switch self {
            case .wav16: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
            case .wavFloat: return Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
            case .flac: return Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
            case .ogg: return Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
            case .opus: return Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS)
            case .mp3: return Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)
            }
        }
    }

    /// Writes interleaved float samples to `path` (atomically: encoded in
    /// memory, then a temporary file renamed into place). Integer encodings
    /// clip to [-1, 1] as libsndfile does.
    public static func write(_ interleaved: [Float], channels: Int, sampleRate: Int, format: Format, to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try encode(interleaved, channels: channels, sampleRate: sampleRate, format: format) } catch let e as BSQError {
            throw BSQError("\(path): \(e.message)")
        }
        let file = try AtomicFile(path: path)
        do {
            try file.write(bytes)
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }

    /// The bytes of an audio file holding interleaved float samples, encoded
    /// in memory (for standard output, which a WAV header cannot be seeked on).
    public static func encode(_ interleaved: [Float], channels: Int, sampleRate: Int, format: Format) throws -> [UInt8] {
        var info = SF_INFO()
        info.channels = Int32(channels)
        info.samplerate = Int32(sampleRate)
        info.format = format.code
        guard sf_format_check(&info) != 0 else {
            throw BSQError("libsndfile cannot write \(format.rawValue) at \(sampleRate) Hz with \(channels) channels")
        }
        let stream = MemoryStream()
        var io = SF_VIRTUAL_IO(
            get_filelen: { user in MemoryStream.from(user).length },
            seek: { offset, whence, user in MemoryStream.from(user).seek(offset, whence) },
            read: { ptr, count, user in MemoryStream.from(user).read(ptr, count) },
            write: { ptr, count, user in MemoryStream.from(user).write(ptr, count) },
            tell: { user in MemoryStream.from(user).position })
        guard let h = sf_open_virtual(&io, Int32(SFM_WRITE), &info, Unmanaged.passUnretained(stream).toOpaque()) else {
            throw BSQError(lastError(nil))
        }
        var clip = Int32(SF_TRUE)
        sf_command(h, Int32(SFC_SET_CLIPPING), &clip, Int32(MemoryLayout<Int32>.size))
        let frames = interleaved.count / max(channels, 1)
        let written = interleaved.withUnsafeBufferPointer { sf_writef_float(h, $0.baseAddress, sf_count_t(frames)) }
        let failed = written != sf_count_t(frames) ? lastError(h) : nil
        sf_close(h)
        if let failed { throw BSQError(failed) }
        return stream.bytes
    }
}

/// A seekable byte buffer behind libsndfile's virtual I/O: read from (a whole
/// file held in memory, as stdin is) or written into and seeked back over (an
/// encoder's output), growing as needed.
private final class MemoryStream {
    var bytes: [UInt8]
    var position: sf_count_t = 0
    init(_ bytes: [UInt8] = []) { self.bytes = bytes }

    var length: sf_count_t { sf_count_t(bytes.count) }

    static func from(_ user: UnsafeMutableRawPointer?) -> MemoryStream {
        Unmanaged<MemoryStream>.fromOpaque(user!).takeUnretainedValue()
    }

    func seek(_ offset: sf_count_t, _ whence: Int32) -> sf_count_t {
        let base: sf_count_t = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? position : length
        let target = base + offset
        if target < 0 { return -1 }
        position = target
        return position
    }

    func read(_ ptr: UnsafeMutableRawPointer?, _ count: sf_count_t) -> sf_count_t {
        guard let ptr, position < length, count > 0 else { return 0 }
        let n = min(count, length - position)
        bytes.withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress! + Int(position), byteCount: Int(n)) }
        position += n
        return n
    }

    func write(_ ptr: UnsafeRawPointer?, _ count: sf_count_t) -> sf_count_t {
        guard let ptr, count > 0 else { return 0 }
        let end = Int(position + count)
        if end > bytes.count { bytes.append(contentsOf: repeatElement(0, count: end - bytes.count)) }
        bytes.withUnsafeMutableBytes { ($0.baseAddress! + Int(position)).copyMemory(from: ptr, byteCount: Int(count)) }
        position += count
        return count
    }
}
