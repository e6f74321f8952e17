/// Every setting of a log-mel analysis, with librosa's names and meanings.
/// The defaults are the original project's (librosa's melspectrogram at
/// 16 kHz, n_fft 1024, hop 160, 128 slaney mels, power_to_db(ref=np.max, top_db=80)).
public struct MelAnalysis: Sendable, Equatable {
    public enum PadMode: String, Sendable, CaseIterable { case constant, reflect }

    /// `ref` of power_to_db: the file's loudest bin, or a fixed power.
    public enum Reference: Sendable, Equatable {
        case max
        case value(Double)
    }

    public var sampleRate = 16000
    public var nFFT = 1024
    public var winLength: Int? = nil          // nil: n_fft
    public var hopLength = 160
    public var nMels = 128
    public var fmin = 0.0
    public var fmax: Double? = nil            // nil: sample_rate / 2
    public var melScale = MelScale.slaney
    public var norm = MelNorm.slaney
    public var power = 2.0
    public var center = true
    public var padMode = PadMode.constant
    public var ref = Reference.max
    public var amin = 1e-10
    public var topDB: Double? = 80

    public init() {}

    /// `librosa.feature.melspectrogram(…)` + `librosa.power_to_db(ref=np.max, top_db=80)`.
    public static let librosa = MelAnalysis()

    /// `torchaudio.transforms.MelSpectrogram(16000, n_fft=1024, hop_length=160, n_mels=128)`
    /// + `AmplitudeToDB("power", top_db=80)`: HTK mels without normalization,
    /// reflect padding, dB relative to a power of 1.
    public static let torchaudio: MelAnalysis = {
        var a = MelAnalysis()
        a.melScale = .htk
        a.norm = .none
        a.padMode = .reflect
        a.ref = .value(1.0)
        return a
    }()

    public var resolvedWinLength: Int { winLength ?? nFFT }
    public var resolvedFmax: Double { fmax ?? Double(sampleRate) / 2 }

    /// Checks every setting, naming the option that is wrong.
    /// Limits of an analysis (mel(1), LIMITS): from options and frame metadata alike.
    public static let maxSampleRate = 768_000, maxFFT = 1 << 16, maxMels = 4096

    public func validate() throws {
        func fail(_ option: String, _ rule: String, _ got: String) throws -> Never {
            throw BSQError("--\(option) must be \(rule) (got \(got))")
        }
        if sampleRate <= 0 || sampleRate > MelAnalysis.maxSampleRate { try fail("sample-rate", "in 1...\(MelAnalysis.maxSampleRate)", "\(sampleRate)") }
        if nFFT < 2 { try fail("n-fft", ">= 2", "\(nFFT)") }
        if nFFT > MelAnalysis.maxFFT { try fail("n-fft", "<= \(MelAnalysis.maxFFT)", "\(nFFT)") }
        if let w = winLength, w < 1 || w > nFFT { try fail("win-length", "between 1 and --n-fft (\(nFFT))", "\(w)") }
        if hopLength <= 0 || hopLength > nFFT { try fail("hop-length", "between 1 and --n-fft (\(nFFT))", "\(hopLength)") }
        if nMels <= 0 || nMels > MelAnalysis.maxMels { try fail("n-mels", "in 1...\(MelAnalysis.maxMels)", "\(nMels)") }
        if !(fmin >= 0) { try fail("fmin", ">= 0", "\(fmin)") }
        let nyquist = Double(sampleRate) / 2
        if let f = fmax, !(f > fmin && f <= nyquist) {
            try fail("fmax", "above --fmin and at most half the sample rate (\(nyquist))", "\(f)")
        }
        if fmax == nil, !(fmin < nyquist) { try fail("fmin", "below half the sample rate (\(nyquist))", "\(fmin)") }
        if !(power > 0) || !power.isFinite { try fail("power", "> 0", "\(power)") }
        if case .value(let r) = ref, !(r > 0) || !r.isFinite { try fail("ref", "'max' or a power > 0", "\(r)") }
        if !(amin > 0) || !amin.isFinite { try fail("amin", "> 0", "\(amin)") }
        if let t = topDB, !(t >= 0) || !t.isFinite { try fail("top-db", ">= 0 or 'none'", "\(t)") }
    }
}
