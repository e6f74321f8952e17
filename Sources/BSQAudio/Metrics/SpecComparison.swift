/// `spec-metrics`' job: the mel frames of a reference and a hypothesis
/// stream (and the codes frames of a third, optionally) matched by key or by
/// position, compared pair by pair, and pooled.
public struct SpecComparison {
    public var ref: String
    public var hyp: String
    public var codes: String?
    public var byOrder: Bool
    /// The range of PSNR, in dB.
    public var range: Double

    public init(ref: String, hyp: String, codes: String? = nil, byOrder: Bool = false, range: Double = 80) {
        self.ref = ref
        self.hyp = hyp
        self.codes = codes
        self.byOrder = byOrder
        self.range = range
    }

    enum Item {
        case mel(MelFrame)
        case codes(CodesFrame)
    }

    /// Reads the streams and compares them; the rows are in the order of the reference.
    public func run() throws -> MetricsReport {
        let paths = [ref, hyp] + (codes.map { [$0] } ?? [])
        var bits: Int?
        var rows: [(index: Int, row: MetricsRow)] = []
        let matcher = FrameMatcher(paths, byOrder: byOrder)
        try matcher.run(read: { stream, frame -> Item in
            if stream < 2 { return .mel(try MelFrame(frame)) }
            let c = try CodesFrame(frame)
            if let bits, bits != c.bits {
                throw BSQError("\(c.bits) bits per token, but earlier frames have \(bits)")
            }
            bits = c.bits
            return .codes(c)
        }) { items, index in
            guard case .mel(let r) = items[0], case .mel(let h) = items[1] else { return }
            let key = r.key ?? "frame \(index)"
            guard r.frame.dims == h.frame.dims else {
                func dims(_ m: MelFrame) -> String { "[\(m.frames),\(m.nMels)]" }
                throw BSQError("\(key): shapes differ: \(FrameMatcher.name(ref)) \(dims(r)), \(FrameMatcher.name(hyp)) \(dims(h))")
            }
            var spec = SpecMetrics()
            spec.add(ref: r.values, hyp: h.values, frames: r.frames, nMels: r.nMels)
            var row = MetricsRow(key: key, nMels: r.nMels, spec: spec)
            if items.count > 2, case .codes(let c) = items[2] {
                var stats = CodeStatistics(bits: c.bits)
                stats.add(c)
                row.codes = stats
            }
            rows.append((index, row))
        }
        rows.sort { $0.index < $1.index }
        return MetricsReport(rows: rows.map(\.row), range: range)
    }
}
