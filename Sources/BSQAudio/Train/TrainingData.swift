import Foundation

/// The training examples: audio files (analysed with `mel`'s defaults when
/// drawn) or mel frames held in memory, and the crops a run draws from them.
///
/// Sample i of the run (step·batch + j) comes from example perm_e[i mod N] of
/// epoch e = i div N, where perm_e is a Fisher–Yates shuffle seeded by (seed, e);
/// its crop offset and SpecAugment masks come from a generator seeded by
/// (seed, i). So the data a step sees depends only on the seed and the step,
/// and a resumed run draws exactly what an uninterrupted one would.
public final class TrainingData: @unchecked Sendable {
    public enum Example: Sendable {
        case audio(AudioInput)
        case mel(values: [Float], frames: Int, key: String)

        public var key: String {
            switch self {
            case .audio(let a): return a.key
            case .mel(_, _, let key): return key
            }
        }
    }

    public let examples: [Example]
    public let model: ModelConfig
    public let seed: UInt64
    public let specAugment: SpecAugment?
    let spectrogram: MelSpectrogram
    private let order: EpochOrder

    /// Audio examples are analysed with `mel`'s defaults at the model's sample rate and hop.
    public init(examples: [Example], model: ModelConfig, seed: UInt64, specAugment: SpecAugment?) throws {
        var analysis = MelAnalysis()
        analysis.sampleRate = model.sampleRate
        analysis.hopLength = model.hopLength
        if examples.isEmpty { throw BSQError("no training data") }
        if analysis.nMels != model.n_mels {
            throw BSQError("model.n_mels is \(model.n_mels) but the mel analysis makes \(analysis.nMels)")
        }
        self.examples = examples
        self.model = model
        self.seed = seed
        self.specAugment = specAugment
        spectrogram = MelSpectrogram(analysis)
        order = EpochOrder(count: examples.count, seed: seed)
    }

    /// The examples named by command-line operands: folders of audio
    /// (searched as `mel` does), audio files, and files or stdin ("-") of
    /// mel frames (recognised by the BSQT magic); lists add audio files.
    /// Checks that every audio file opens and every mel frame fits the model.
    public static func examples(operands: [String], lists: [String], root: String?, model: ModelConfig) throws -> [Example] {
        var out: [Example] = []
        var audio: [AudioInput] = []
        for op in operands {
            if op == "-" || (!AudioInputs.isDirectory(op) && isFrameFile(op)) {
                try FrameInputs([op]).forEach { frame, i in
                    let mel: MelFrame
                    do { mel = try MelFrame(frame) } catch let e as BSQError {
                        throw BSQError("\(FrameMatcher.name(op)): \(frame.label(index: i)): \(e.message)")
                    }
                    guard mel.nMels == model.n_mels else {
                        throw BSQError("\(FrameMatcher.name(op)): \(frame.label(index: i)) has \(mel.nMels) mel bins, the model \(model.n_mels)")
                    }
                    guard mel.frames > 0 else { return }
                    out.append(.mel(values: mel.values, frames: mel.frames, key: mel.key ?? "\(op)#\(i)"))
                }
            } else {
                audio += try AudioInputs.expand([op])
            }
        }
        for l in lists { audio += try AudioInputs.fromList(l, root: root) }
        for a in audio { _ = try SoundFile(path: a.path) }
        out += audio.map { .audio($0) }
        return out
    }

    static func isFrameFile(_ path: String) -> Bool {
        guard let f = fopen(path, "rb") else { return false }
        defer { fclose(f) }
        var magic = [UInt8](repeating: 0, count: 4)
        return fread(&magic, 1, 4, f) == 4 && magic == Array("BSQT".utf8)
    }

    /// The whole mel of an example, in dB.
    public func mel(_ e: Example) throws -> (values: [Float], frames: Int) {
        switch e {
        case .mel(let v, let f, _): return (v, f)
        case .audio(let a):
            let y = try AudioLoader.loadMono(.path(a.path), sampleRate: spectrogram.analysis.sampleRate)
            let m = try spectrogram.compute(y)
            return (m.values, m.frames)
        }
    }

    /// Example index of sample `i` of the run.
    func exampleIndex(sample i: Int) -> Int { order.example(sample: i) }

    /// Sample `i`: `frames` rows of an example from a random offset (padded
    /// with db_min when the example is shorter), SpecAugment applied if on.
    public func sample(_ i: Int, into out: UnsafeMutablePointer<Float>) throws {
        let c = model, example = examples[exampleIndex(sample: i)]
        let (values, frames) = try mel(example)
        var rng = SplitMix64(seed: seed ^ (0xD1B5_4A32_D192_ED03 &* UInt64(i + 1)))
        let offset = frames > c.frames ? Int(rng.next() % UInt64(frames - c.frames + 1)) : 0
        let rows = min(frames, c.frames)
        var crop = [Float](repeating: Float(c.db_min), count: c.frames * c.n_mels)
        for k in 0..<(rows * c.n_mels) { crop[k] = max(Float(c.db_min), min(Float(c.db_max), values[offset * c.n_mels + k])) }
        if let specAugment {
            crop = specAugment.apply(crop, frames: c.frames, nMels: c.n_mels, topDB: nil, rng: &rng).values
        }
        out.update(from: crop, count: crop.count)
    }

    /// Masked pre-training's masks of step `step`: for each sample i of it,
    /// ⌊ratio·N⌋ of its N tokens chosen uniformly (a partial Fisher–Yates
    /// shuffle seeded by the seed and i, like the crops): [part.count · N],
    /// for the samples `part` of the step's `size` (default: all).
    public func masks(step: Int, size: Int, ratio: Double, part: Range<Int>? = nil) -> [Bool] {
        let n = model.tokens, k = Int((ratio * Double(n)).rounded(.down)), part = part ?? 0..<size
        var out = [Bool](repeating: false, count: part.count * n)
        for j in 0..<part.count {
            let i = step * size + part.lowerBound + j
            var rng = SplitMix64(seed: seed ^ (0x9A3C_5B1E_D2F4_8607 &* UInt64(i + 1)))
            var order = Array(0..<n)
            for t in 0..<k {
                order.swapAt(t, t + Int(rng.next() % UInt64(n - t)))
                out[j * n + order[t]] = true
            }
        }
        return out
    }

    /// The mel of step `step` of `size` samples: [batch, frames, n_mels], or
    /// only its samples `part` (a process's share in data-parallel training);
    /// nil when `cancelled` turns true between two samples.
    public func batch(step: Int, size: Int, part: Range<Int>? = nil, cancelled: () -> Bool = { false }) throws -> [Float]? {
        let n = model.frames * model.n_mels, part = part ?? 0..<size
        var out = [Float](repeating: 0, count: part.count * n)
        for j in 0..<part.count {
            if cancelled() { return nil }
            try out.withUnsafeMutableBufferPointer { o in try sample(step * size + part.lowerBound + j, into: o.baseAddress! + j * n) }
        }
        return out
    }
}

/// The order a run draws its examples in: sample i is example perm_e[i mod N]
/// of epoch e = i div N, perm_e a Fisher–Yates shuffle seeded by (seed, e).
final class EpochOrder: @unchecked Sendable {
    let count: Int, seed: UInt64
    private var permutation: (epoch: Int, order: [Int])?
    private let lock = NSLockLite()

    init(count: Int, seed: UInt64) { self.count = count; self.seed = seed }

    func example(sample i: Int) -> Int {
        let n = count, epoch = i / n
        return lock.sync {
            if permutation?.epoch != epoch {
                var order = Array(0..<n)
                var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
                for k in stride(from: n - 1, to: 0, by: -1) { order.swapAt(k, Int(rng.next() % UInt64(k + 1))) }
                permutation = (epoch, order)
            }
            return permutation!.order[i % n]
        }
    }
}

/// Batches made ahead on a background thread, in step order, so that the
/// training loop never waits for decoding and analysis. Its owner calls
/// `stop` on every way out (a `defer`): it cancels the batch in progress
/// between two samples and joins the thread, so no analysis (FFTW, OpenBLAS,
/// libsndfile) is left running when the trainer returns.
public final class BatchPrefetcher: @unchecked Sendable {
    /// Makes the batch of a step; returns nil when its `cancelled` argument turns true.
    public typealias Maker = @Sendable (_ step: Int, _ cancelled: () -> Bool) throws -> [Float]?
    private let make: Maker
    private let ahead: Int
    private var ready: [Int: Result<[Float], Error>] = [:]
    private var next: Int
    private var stopped = false
    private let cond = NSCondition()
    private var thread: WorkerThread?

    public convenience init(_ data: TrainingData, batch: Int, part: Range<Int>? = nil, from step: Int, ahead: Int = 2) {
        self.init(from: step, ahead: ahead) { s, cancelled in try data.batch(step: s, size: batch, part: part, cancelled: cancelled) }
    }

    public init(from step: Int, ahead: Int = 2, make: @escaping Maker) {
        self.make = make
        self.ahead = ahead
        next = step
        thread = WorkerThread(stackSize: 1 << 22) { self.loop() }
    }

    private var isStopped: Bool { cond.lock(); defer { cond.unlock() }; return stopped }

    private func loop() {
        while true {
            cond.lock()
            while !stopped && ready.count >= ahead { cond.wait() }
            if stopped { cond.unlock(); return }
            let step = next
            next += 1
            cond.unlock()
            let r: Result<[Float]?, Error> = Result { try make(step, { self.isStopped }) }
            cond.lock()
            if case .success(nil) = r { cond.unlock(); return }
            ready[step] = r.map { $0! }
            cond.broadcast()
            cond.unlock()
        }
    }

    /// The batch of `step` (steps must be asked for in order).
    public func take(_ step: Int) throws -> [Float] {
        cond.lock()
        defer { cond.unlock() }
        while ready[step] == nil { cond.wait() }
        let r = ready.removeValue(forKey: step)!
        cond.broadcast()
        return try r.get()
    }

    /// Stops making batches and waits for the thread to end.
    public func stop() {
        cond.lock()
        stopped = true
        cond.broadcast()
        cond.unlock()
        thread?.join()
        thread = nil
    }
}
