import Foundation

/// A log-mel spectrogram, time-major: `values[t * nMels + m]`.
public struct LogMel: Sendable {
    public var values: [Float]
    public var frames: Int
    public let nMels: Int
    /// The dB value digital silence gets under the same analysis (the floor
    /// used to pad to a fixed length).
    public var floor: Float

    public init(values: [Float], frames: Int, nMels: Int, floor: Float) {
        self.values = values
        self.frames = frames
        self.nMels = nMels
        self.floor = floor
    }
}

/// librosa's `melspectrogram` + `power_to_db` (or torchaudio's
/// `MelSpectrogram` + `AmplitudeToDB`) on a mono signal:
///
///     X[t, k]  = Σₙ w[n] · ỹ[t·hop + n] · e^{-2πikn/N}     (`STFT`: ỹ is y padded by N/2 each side when centered)
///     M[t, m]  = Σₖ |X[t, k]|^power · F[k, m]              (`MelFilterbank.apply` per block of frames)
///     dB[t, m] = 10·log10(max(amin, M)) − 10·log10(max(amin, ref)),
///                then max(dB, max(dB) − top_db)
///
/// `w` is the periodic Hann window of `win_length`, centered in N = n_fft.
/// The FFT plan and the filterbank are made once; `compute` is thread-safe.
public struct MelSpectrogram: Sendable {
    public let analysis: MelAnalysis
    public let stft: STFT
    public let filterbank: MelFilterbank
    /// Frames per STFT + sgemm block. Every sgemm has exactly this many rows
    /// (the last block is padded with zero rows): OpenBLAS then runs the same
    /// full-tile kernels for every frame, so a frame's value does not depend
    /// on where it sits in the file (chunks of a recording agree bit for bit).
    static let blockFrames = 256

    public init(_ analysis: MelAnalysis) {
        self.analysis = analysis
        stft = STFT(analysis)
        filterbank = MelFilterbank(analysis)
    }

    /// The log-mel spectrogram of `y` (at `analysis.sampleRate`).
    public func compute(_ y: [Float]) throws -> LogMel {
        var mel = try melPower(y)
        let floor = toDecibels(&mel.values)
        return LogMel(values: mel.values, frames: mel.frames, nMels: analysis.nMels, floor: floor)
    }

    /// The mel power spectrogram [frames, n_mels], before dB.
    public func melPower(_ y: [Float]) throws -> (values: [Float], frames: Int) {
        guard let frames = stft.frameCount(samples: y.count) else {
            throw BSQError("\(y.count) samples are fewer than --n-fft (\(analysis.nFFT)) without centering")
        }
        let nMels = analysis.nMels, block = Self.blockFrames
        var out = [Float](repeating: 0, count: frames * nMels)
        let ws = STFT.Workspace(nFFT: stft.nFFT)
        let powers = AlignedFloats(count: block * stft.bins)
        let product = AlignedFloats(count: block * nMels)
        y.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                stft.powerSpectrogram(x, power: analysis.power, blockFrames: block, into: powers.pointer, ws) { t0, count in
                    filterbank.apply(powers.pointer, rows: block, into: product.pointer)
                    (o.baseAddress! + t0 * nMels).update(from: product.pointer, count: count * nMels)
                }
            }
        }
        return (out, frames)
    }

    /// power_to_db in place, in float32 as numpy does; returns the dB value of
    /// silence. Every logarithm (bins, reference, floor) is the same function,
    /// so the loudest bin is exactly 0 dB with ref=max.
    func toDecibels(_ s: inout [Float]) -> Float {
        let a = analysis
        let amin = Float(a.amin)
        let refPower: Float
        switch a.ref {
        case .max: refPower = s.max() ?? 0
        case .value(let v): refPower = Float(v)
        }
        let offset = FastLog.decibels(Swift.max(amin, refPower))
        var top = -Float.infinity
        s.withUnsafeMutableBufferPointer { b in
            let n = b.count, whole = n - n % 8
            let lo = SIMD8<Float>(repeating: amin), shift = SIMD8<Float>(repeating: offset)
            var peak = SIMD8<Float>(repeating: -.infinity)
            var i = 0
            while i < whole {
                let p = UnsafeMutableRawPointer(b.baseAddress! + i)
                var x = p.loadUnaligned(as: SIMD8<Float>.self)
                x.replace(with: lo, where: x .< lo)
                let v = FastLog.decibels(x) - shift
                p.storeBytes(of: v, as: SIMD8<Float>.self)
                peak = pointwiseMax(peak, v)
                i += 8
            }
            top = peak.max()
            while i < n {
                b[i] = FastLog.decibels(Swift.max(amin, b[i])) - offset
                top = Swift.max(top, b[i])
                i += 1
            }
        }
        var silence = FastLog.decibels(amin) - offset
        if let topDB = a.topDB {
            let lowest = (s.isEmpty ? silence : top) - Float(topDB)
            s.withUnsafeMutableBufferPointer { b in
                for i in 0..<b.count { b[i] = Swift.max(b[i], lowest) }
            }
            silence = Swift.max(silence, lowest)
        }
        return silence
    }
}
