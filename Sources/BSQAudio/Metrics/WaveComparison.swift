import Foundation

/// `wav-metrics`' job: reference and hypothesis audio, two files or two
/// folders whose files are matched by key (the path relative to the folder
/// without its extension, as `mel` keys them), compared pair by pair.
///
/// Each file is decoded and averaged to mono; a hypothesis at another rate
/// is resampled to the reference's (libsoxr, as `mel` does); both are cut to
/// the shorter length (`mel2wav` gives hop·(frames − 1) samples, up to a hop
/// fewer than the original). MCD compares the two at the lower of the two
/// files' rates, as mel-cepstral-distance does: a hypothesis at a lower rate
/// than the reference is compared, for MCD, with the reference resampled to
/// its rate. A key on one side only, or a file that cannot be read, is
/// reported to `diagnostics` and skipped.
public struct WaveComparison {
    public var ref: String
    public var hyp: String
    public var jobs: Int
    public var diagnostics: Diagnostics
    /// Shown the pairs done, when given.
    public var progress: ProgressDisplay?

    public init(ref: String, hyp: String, jobs: Int = 1, diagnostics: Diagnostics = .silent) {
        self.ref = ref
        self.hyp = hyp
        self.jobs = jobs
        self.diagnostics = diagnostics
    }

    /// The compared pairs, in the reference's order, and how many keys there were.
    public func run() throws -> (rows: [(key: String, metrics: WaveformMetrics)], total: Int) {
        let refDir = AudioInputs.isDirectory(ref), hypDir = AudioInputs.isDirectory(hyp)
        guard refDir == hypDir else {
            throw BSQError("REF and HYP must both be files or both be folders (\(refDir ? ref : hyp) is a folder)")
        }
        let refs = try AudioInputs.expand([ref]), hyps = try AudioInputs.expand([hyp])
        var pairs: [(key: String, ref: String, hyp: String)] = []
        var missing = 0
        if refDir {
            let byKey = Dictionary(hyps.map { ($0.key, $0.path) }, uniquingKeysWith: { a, _ in a })
            let refKeys = Set(refs.map(\.key))
            for r in refs {
                if let h = byKey[r.key] { pairs.append((r.key, r.path, h)) }
                else { diagnostics.problem("\(r.key): in \(ref) but not in \(hyp)"); missing += 1 }
            }
            for h in hyps where !refKeys.contains(h.key) {
                diagnostics.problem("\(h.key): in \(hyp) but not in \(ref)")
                missing += 1
            }
        } else {
            pairs = [(refs[0].key, refs[0].path, hyps[0].path)]
        }
        BLAS.setThreads(1)
        var rows: [(key: String, metrics: WaveformMetrics)] = []
        let work = pairs
        try OrderedParallel.run(count: work.count, jobs: jobs, work: { i -> Result<WaveformMetrics, BSQError> in
            do { return .success(try WaveComparison.compare(ref: work[i].ref, hyp: work[i].hyp)) }
            catch let e as BSQError { return .failure(e) }
            catch { return .failure(BSQError("\(work[i].key): \(error)")) }
        }, consume: { i, result in
            switch result {
            case .success(let m): rows.append((work[i].key, m))
            case .failure(let e): progress?.finish(); diagnostics.problem(e.message)
            }
            progress?.update(i + 1, note: "of \(work.count)")
        })
        progress?.finish()
        return (rows, pairs.count + missing)
    }

    /// The metrics of one pair of files.
    public static func compare(ref: String, hyp: String) throws -> WaveformMetrics {
        let rate = try SoundFile(path: ref).sampleRate, hypRate = try SoundFile(path: hyp).sampleRate
        let (x, y) = try loadPair(ref: ref, hyp: hyp, sampleRate: rate)
        let lower = hypRate < rate ? try loadPair(ref: ref, hyp: hyp, sampleRate: hypRate) : nil
        return WaveformMetrics(ref: x, hyp: y, sampleRate: rate, mcdSignals: lower.map { ($0.0, $0.1, hypRate) })
    }

    /// Both files at `sampleRate`, mono, cut to the shorter length.
    static func loadPair(ref: String, hyp: String, sampleRate: Int) throws -> ([Float], [Float]) {
        var x = try AudioLoader.loadMono(.path(ref), sampleRate: sampleRate)
        var y = try AudioLoader.loadMono(.path(hyp), sampleRate: sampleRate)
        let n = min(x.count, y.count)
        x.removeLast(x.count - n)
        y.removeLast(y.count - n)
        return (x, y)
    }
}
