import Glibc
/// Where an audio input comes from: a path, or the bytes of a whole file (stdin).
public enum AudioSource: Sendable {
    case path(String)
    case bytes([UInt8], name: String)

    public var name: String {
        switch self {
        case .path(let p): return p
        case .bytes(_, let n): return n
        }
    }
}

/// `librosa.load(path, sr=rate)`: decode to float32, average the channels
/// (`np.mean` over channels, in float32), resample with soxr HQ and fix the
/// length to ⌈n · rate / native⌉. Decoding, mixing and resampling stream in
/// blocks, so only the mono output is ever held whole.
public enum AudioLoader {
    public static let blockFrames = 65536
    /// The most frames (samples per channel) one input may decode to: 2³¹ − 1 (37 h at 16 kHz).
    public static let maxFrames = Int(Int32.max)

    public static func loadMono(_ source: AudioSource, sampleRate: Int) throws -> [Float] {
        let file: SoundFile
        switch source {
        case .path(let p): file = try SoundFile(path: p)
        case .bytes(let b, let n): file = try SoundFile(bytes: b, name: n)
        }
        let channels = file.channels
        let resampler = file.sampleRate == sampleRate
            ? nil : try Resampler(from: Double(file.sampleRate), to: Double(sampleRate))
        var output = [Float]()
        // the announced length is a hint (a truncated file may announce anything): reserve at most 2^22 samples
        let expected = min(max(file.announcedFrames, 0), 1 << 22)
        output.reserveCapacity(min(resampler == nil ? expected : Int(Double(expected) * Double(sampleRate) / Double(file.sampleRate)) + 16, 1 << 22))

        // blocks of at most 2 · blockFrames samples: 512 KiB however many channels (1024 once took 256 MB)
        let block = min(blockFrames, max(64, 2 * blockFrames / channels))
        var interleaved = [Float](repeating: 0, count: block * channels)
        var mono = [Float](repeating: 0, count: block)
        var total = 0
        while true {
            let got = try interleaved.withUnsafeMutableBufferPointer { try file.read(into: $0.baseAddress!, frames: block) }
            if got == 0 { break }
            total += got
            guard total <= maxFrames, Double(total) * Double(sampleRate) / Double(file.sampleRate) <= Double(maxFrames) else {
                throw BSQError("\(source.name): longer than \(maxFrames) frames, the limit of one input (at \(file.sampleRate) Hz, or resampled to \(sampleRate) Hz)")
            }
            mixDown(interleaved, channels: channels, frames: got, into: &mono)
            if let bad = mono[0..<got].firstIndex(where: { !$0.isFinite }) {
                throw BSQError("\(source.name): sample \(total - got + bad) is \(mono[bad]) (the audio must be finite numbers)")
            }
            if let resampler {
                try mono.withUnsafeBufferPointer { try resampler.process(UnsafeBufferPointer(rebasing: $0[0..<got]), into: &output) }
            } else {
                output.append(contentsOf: mono[0..<got])
            }
        }
        if total == 0 { throw BSQError("\(source.name): no audio samples") }
        if let resampler {
            try resampler.flush(into: &output)
            let n = Resampler.librosaLength(inputCount: total, from: resampler.inputRate, to: resampler.outputRate)
            if output.count > n { output.removeLast(output.count - n) }
            else if output.count < n { output.append(contentsOf: repeatElement(0, count: n - output.count)) }
        }
        return output
    }

    /// The most bytes read from standard input (4 GiB).
    public static let maxStandardInput = 1 << 32

    /// The audio file on standard input, read whole (the decoders seek): its
    /// first bytes must be a container header that libsndfile reads (RIFF,
    /// RF64, FORM, fLaC, OggS, an mp3's ID3 tag or frame sync, …), so that
    /// anything else fails at once; at most `maxStandardInput` bytes.
    public static func readStandardInput() throws -> [UInt8] {
        if isatty(0) != 0 { throw BSQError("-: standard input is a terminal; give audio files, or redirect one in (mel - < a.wav)") }
        let source = try ByteSource(path: "-")
        var head = [UInt8](repeating: 0, count: 64)
        let n = try head.withUnsafeMutableBytes { try source.read(into: $0.baseAddress!, count: 64) }
        head.removeLast(64 - n)
        if n == 0 { throw BSQError("-: standard input is empty (expected an audio file)") }
        guard looksLikeAudio(head) else {
            throw BSQError("-: standard input is not an audio file libsndfile reads (no known header in its first bytes)")
        }
        return head + (try source.readAll(limit: maxStandardInput - n))
    }

    /// Whether `head` starts as a container libsndfile opens.
    static func looksLikeAudio(_ head: [UInt8]) -> Bool {
        func starts(_ s: String) -> Bool { head.starts(with: Array(s.utf8)) }
        let magics = ["RIFF", "RIFX", "RF64", "BW64", "FORM", "fLaC", "OggS", "ID3", ".snd", "dns.", "caff", "NIST_1A",
                      "Creative Voice File", "2BIT", "PVF1", " paf", "fap ", "riff", "MATLAB 5.0", "Extended Instrument:", "ajkg"]
        if magics.contains(where: starts) { return true }
        if head.count >= 4, [[0x64, 0xa3, 0x01, 0x00], [0x00, 0x01, 0xa3, 0x64], [0x64, 0xa3, 0x02, 0x00], [0x00, 0x02, 0xa3, 0x64],
                             [0x64, 0xa3, 0x03, 0x00], [0x00, 0x03, 0xa3, 0x64], [0x64, 0xa3, 0x04, 0x00], [0x00, 0x04, 0xa3, 0x64]]
            .contains(Array(head[0..<4])) { return true }                                     // IRCAM
        return head.count >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0                     // an MPEG audio frame
    }

    /// Mean of the channels, summed in channel order in float32 and divided
    /// by the channel count, as numpy's float32 `mean(axis=0)` does.
    static func mixDown(_ interleaved: [Float], channels: Int, frames: Int, into mono: inout [Float]) {
        interleaved.withUnsafeBufferPointer { x in
            mono.withUnsafeMutableBufferPointer { m in
                if channels == 1 {
                    m.baseAddress!.update(from: x.baseAddress!, count: frames)
                    return
                }
                let c = Float(channels)
                for i in 0..<frames {
                    var s = x[i * channels]
                    for k in 1..<channels { s += x[i * channels + k] }
                    m[i] = s / c
                }
            }
        }
    }
}
