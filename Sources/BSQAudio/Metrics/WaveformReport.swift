import Foundation

/// What `wav-metrics` prints: a row per pair of files and the overall row
/// (total seconds; every metric the mean over the pairs), as an aligned
/// table, JSON Lines or CSV, shaped like `spec-metrics`' `MetricsReport`.
public struct WaveformReport: Sendable {
    public var rows: [(key: String, metrics: WaveformMetrics)]

    public init(rows: [(key: String, metrics: WaveformMetrics)]) { self.rows = rows }

    static let names = ["seconds", "si_snr", "stoi", "estoi", "mcd", "mcd_mel80"]

    /// The values of a row in `names` order; the overall row when `key` is nil.
    func values(_ m: WaveformMetrics?) -> [Double] {
        if let m { return [m.seconds, m.siSNR, m.stoi, m.estoi, m.mcd, m.mcdMel80] }
        let n = Double(rows.count)
        let ms = rows.map(\.metrics)
        return [ms.reduce(0) { $0 + $1.seconds }, ms.reduce(0) { $0 + $1.siSNR } / n, ms.reduce(0) { $0 + $1.stoi } / n,
                ms.reduce(0) { $0 + $1.estoi } / n, ms.reduce(0) { $0 + $1.mcd } / n, ms.reduce(0) { $0 + $1.mcdMel80 } / n]
    }

    /// One object per pair (`"type":"utterance"`, with `samples` and
    /// `sample_rate`), then `"type":"overall"` with `utterances`; a value that
    /// is not finite is null.
    public func jsonLines() -> String {
        var out = ""
        for r in rows {
            var o = JSONObject()
            o["type"] = "utterance"
            o["key"] = .string(r.key)
            o["samples"] = JSONValue(r.metrics.samples)
            o["sample_rate"] = JSONValue(r.metrics.sampleRate)
            for (name, v) in zip(Self.names, values(r.metrics)) { o[name] = v.isFinite ? .number(v) : .null }
            out += JSONValue.object(o).serialized() + "\n"
        }
        var o = JSONObject()
        o["type"] = "overall"
        o["utterances"] = JSONValue(rows.count)
        for (name, v) in zip(Self.names, values(nil)) { o[name] = v.isFinite ? .number(v) : .null }
        return out + JSONValue.object(o).serialized() + "\n"
    }

    /// CSV with a header row; the overall row has the type `overall` and an empty key.
    public func csv() -> String {
        var lines = [(["type", "key", "samples", "sample_rate"] + Self.names).joined(separator: ",")]
        for r in rows {
            lines.append((["utterance", MetricsReport.csvQuote(r.key), String(r.metrics.samples), String(r.metrics.sampleRate)]
                          + values(r.metrics).map(MetricsReport.Value.text)).joined(separator: ","))
        }
        lines.append((["overall", "", "", ""] + values(nil).map(MetricsReport.Value.text)).joined(separator: ","))
        return lines.map { $0 + "\n" }.joined()
    }

    /// An aligned table for people.
    public func table() -> String {
        let header = ["key", "seconds", "si-snr", "stoi", "estoi", "mcd", "mcd-mel80"]
        func cells(_ key: String, _ v: [Double]) -> [String] {
            [key, f(v[0], 2), f(v[1], 2), f(v[2], 4), f(v[3], 4), f(v[4], 3), f(v[5], 2)]
        }
        let body = [header] + rows.map { cells($0.key, values($0.metrics)) } + [cells("overall", values(nil))]
        let widths = header.indices.map { i in body.map { $0[i].count }.max()! }
        return body.map { line in
            line.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ") + "\n"
        }.joined()
    }

    private func f(_ x: Double, _ decimals: Int) -> String {
        x.isNaN ? "nan" : x.isInfinite ? (x > 0 ? "inf" : "-inf") : String(format: "%.\(decimals)f", x)
    }
}
