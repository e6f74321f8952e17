import Foundation

/// One line of a metrics report: an utterance, or every utterance pooled.
public struct MetricsRow: Sendable {
    /// The utterance's key; nil for the pooled row.
    public var key: String?
    /// Mel bins per frame (nil for the pooled row).
    public var nMels: Int?
    public var spec: SpecMetrics
    public var codes: CodeStatistics?

    public init(key: String?, nMels: Int?, spec: SpecMetrics, codes: CodeStatistics? = nil) {
        self.key = key
        self.nMels = nMels
        self.spec = spec
        self.codes = codes
    }
}

/// What `spec-metrics` prints: a row per utterance and the pooled row, as an
/// aligned table, JSON Lines or CSV.
public struct MetricsReport: Sendable {
    public var rows: [MetricsRow]
    /// The pooled row: the sums of every utterance added up (see `SpecMetrics`, `CodeStatistics`).
    public var overall: MetricsRow
    /// The range of PSNR, in dB.
    public var range: Double

    /// A report of `rows`, with the pooled row computed from them in order.
    public init(rows: [MetricsRow], range: Double) {
        self.rows = rows
        self.range = range
        var spec = SpecMetrics()
        var codes = rows.first?.codes.map { CodeStatistics(bits: $0.bits) }
        for r in rows {
            spec.merge(r.spec)
            if let c = r.codes { codes?.merge(c) }
        }
        overall = MetricsRow(key: nil, nMels: nil, spec: spec, codes: codes)
    }

    // MARK: - Fields

    /// The named values of a row, in output order (nil: no value, such as the
    /// pooled row's n_mels); `codes` holds those of the tokens.
    func fields(_ r: MetricsRow) -> (spec: [(String, Value)], codes: [(String, Value)]) {
        let s = r.spec
        var spec: [(String, Value)] = [
            ("frames", .int(s.frames)), ("n_mels", r.nMels.map(Value.int) ?? .none), ("values", .int(s.values)),
            ("mse", .real(s.mse)), ("mae", .real(s.mae)), ("rmse", .real(s.rmse)), ("psnr", .real(s.psnr(range: range))),
            ("lsd", .real(s.lsd)), ("sc", .real(s.spectralConvergence)), ("snr", .real(s.snr)),
        ]
        if r.key == nil { spec.insert(("utterances", .int(rows.count)), at: 0) }
        guard let c = r.codes else { return (spec, []) }
        let codes: [(String, Value)] = [
            ("bits", .int(c.bits)), ("tokens", .int(c.tokens)), ("seconds", .real(c.seconds)),
            ("tokens_per_second", .real(c.tokensPerSecond)), ("bits_per_second", .real(c.bitsPerSecond)),
            ("distinct", .int(c.distinct)), ("usage", .real(c.usage)), ("entropy", .real(c.entropy)),
            ("perplexity", .real(c.perplexity)), ("bit_entropy", .reals(c.bitEntropy)),
        ]
        return (spec, codes)
    }

    enum Value {
        case none, int(Int), real(Double), reals([Double])
        var json: JSONValue {
            switch self {
            case .none: return .null
            case .int(let n): return JSONValue(n)
            case .real(let x): return .number(x)
            case .reals(let xs): return .array(xs.map { .number($0) })
            }
        }
        /// Full precision for scripts; `inf`, `-inf`, `nan` as Python's float() reads them.
        var csv: [String] {
            switch self {
            case .none: return [""]
            case .int(let n): return [String(n)]
            case .real(let x): return [Value.text(x)]
            case .reals(let xs): return xs.map(Value.text)
            }
        }
        static func text(_ x: Double) -> String {
            x.isNaN ? "nan" : x.isInfinite ? (x > 0 ? "inf" : "-inf") : "\(x)"
        }
    }

    // MARK: - Output

    /// JSON Lines: one object per utterance (`"type":"utterance"`), then the
    /// pooled one (`"type":"overall"`); the token statistics in `"codes"`.
    /// A value that is not finite (the PSNR of equal spectrograms) is null.
    public func jsonLines() -> String {
        var out = ""
        for r in rows + [overall] {
            var o = JSONObject()
            o["type"] = r.key == nil ? "overall" : "utterance"
            if let key = r.key { o["key"] = .string(key) }
            let (spec, codes) = fields(r)
            for (name, v) in spec where r.key != nil || name != "n_mels" { o[name] = v.json }
            if !codes.isEmpty {
                var c = JSONObject()
                for (name, v) in codes { c[name] = v.json }
                o["codes"] = .object(c)
            }
            out += JSONValue.object(o).serialized() + "\n"
        }
        return out
    }

    /// CSV (RFC 4180) with a header row; the pooled row has the type
    /// `overall` and an empty key; the bit entropies are columns
    /// bit_entropy_0 (the most significant bit) to bit_entropy_{bits−1}.
    public func csv() -> String {
        func row(_ r: MetricsRow) -> [String] {
            let (spec, codes) = fields(r)
            return [r.key == nil ? "overall" : "utterance", r.key.map(MetricsReport.csvQuote) ?? ""]
                + spec.filter { $0.0 != "utterances" }.flatMap { $0.1.csv } + codes.flatMap { $0.1.csv }
        }
        let (spec, codes) = fields(overall)
        var header = ["type", "key"] + spec.map(\.0).filter { $0 != "utterances" }
        for (name, v) in codes {
            if case .reals(let xs) = v { header += xs.indices.map { "\(name)_\($0)" } } else { header.append(name) }
        }
        return ([header] + (rows + [overall]).map(row)).map { $0.joined(separator: ",") + "\n" }.joined()
    }

    static func csvQuote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// An aligned table for people: a row per utterance and the pooled row
    /// `overall`, then, with tokens, the pooled token statistics.
    public func table() -> String {
        let withCodes = overall.codes != nil
        var header = ["key", "frames", "mse", "mae", "rmse", "psnr", "lsd", "sc", "snr"]
        if withCodes { header += ["tokens", "tok/s", "bit/s", "distinct", "entropy"] }
        func cells(_ r: MetricsRow) -> [String] {
            let s = r.spec
            var c = [r.key ?? "overall", String(s.frames), f(s.mse, 3), f(s.mae, 3), f(s.rmse, 3),
                     f(s.psnr(range: range), 2), f(s.lsd, 3), f(s.spectralConvergence, 4), f(s.snr, 2)]
            if let k = r.codes {
                c += [String(k.tokens), f(k.tokensPerSecond, 2), f(k.bitsPerSecond, 1), String(k.distinct), f(k.entropy, 3)]
            }
            return c
        }
        let body = [header] + (rows + [overall]).map(cells)
        let widths = header.indices.map { i in body.map { $0[i].count }.max()! }
        var out = body.map { line in
            line.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ") + "\n"
        }.joined()
        if let c = overall.codes {
            out += "\n"
            out += "tokens: \(c.tokens) of \(c.bits) bits, standing for \(f(c.seconds, 3)) s: \(f(c.tokensPerSecond, 2)) tokens/s, \(f(c.bitsPerSecond, 1)) bits/s\n"
            out += "codebook usage: \(c.distinct) of 2^\(c.bits) = \(f(pow(2, Double(c.bits)), 0)) (\(f(100 * c.usage, 4)) %)\n"
            out += "entropy: \(f(c.entropy, 4)) bits per token, perplexity \(f(c.perplexity, 2))\n"
            out += "bit entropy, coordinate 0 (most significant bit) first:\n"
            let bits = c.bitEntropy.map { f($0, 3) }
            for start in stride(from: 0, to: bits.count, by: 16) {
                out += "  " + bits[start..<min(start + 16, bits.count)].joined(separator: " ") + "\n"
            }
        }
        return out
    }

    private func f(_ x: Double, _ decimals: Int) -> String {
        x.isNaN ? "nan" : x.isInfinite ? (x > 0 ? "inf" : "-inf") : String(format: "%.\(decimals)f", x)
    }
}
