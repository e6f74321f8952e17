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
        let expected = max(file.announcedFrames, 0)
        output.reserveCapacity(resampler == nil ? expected : Int(Double(expected) * Double(sampleRate) / Double(file.sampleRate)) + 16)

        var interleaved = [Float](repeating: 0, count: blockFrames * channels)
        var mono = [Float](repeating: 0, count: blockFrames)
        var total = 0
        while true {
            let got = try interleaved.withUnsafeMutableBufferPointer { try file.read(into: $0.baseAddress!, frames: blockFrames) }
            if got == 0 { break }
            total += got
            mixDown(interleaved, channels: channels, frames: got, into: &mono)
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
