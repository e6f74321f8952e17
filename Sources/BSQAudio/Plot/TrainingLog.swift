import Foundation

/// A training log in JSON Lines, one object per line, as `bsq-train` writes
/// it: `{"step": 10, "loss": 0.31, "lr": 3e-4, ...}`, validation lines with
/// `"kind": "val"` or `val_`-prefixed keys. Every number other than the step
/// is a quantity over steps; `null` is a gap.
public struct TrainingLog: Sendable {
    public let name: String
    /// Quantities in the order they first appear.
    public private(set) var keys: [String] = []
    public private(set) var points: [String: [(x: Double, y: Double)]] = [:]

    /// Reads `bytes`. Blank lines are skipped, and so are objects whose `kind`
    /// is neither "train" nor "val" (a config header, say); anything else
    /// that is not a JSON object with a number at `step` is an error naming
    /// its line. On a line of kind "val", a key without the `val_` prefix
    /// gets it, so validation and training quantities never mix.
    public init(_ bytes: [UInt8], name: String) throws {
        self.name = name
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            let line = bytes[start..<end]
            start = end + 1
            guard line.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) }) else { continue }
            let value: JSONValue
            do {
                value = try JSONValue.parse(line)
            } catch let e as JSONValue.ParseError {
                throw BSQError("\(name): line \(lineNumber): invalid JSON (\(e))")
            }
            guard case .object(let object) = value else {
                throw BSQError("\(name): line \(lineNumber): not a JSON object")
            }
            let kind = object["kind"]?.string
            if let k = object["kind"], kind != "train" && kind != "val" {
                if kind == nil { throw BSQError("\(name): line \(lineNumber): \"kind\" is not a string (\(k.serialized()))") }
                continue
            }
            guard let step = object["step"]?.number else {
                throw BSQError("\(name): line \(lineNumber): no number at \"step\"")
            }
            for (key, v) in object.pairs where key != "step" && key != "kind" {
                let y: Double
                switch v {
                case .number, .exactNumber: y = v.number ?? .nan
                case .null: y = .nan
                default: continue
                }
                let name = kind == "val" && !key.hasPrefix("val_") ? "val_" + key : key
                if points[name] == nil { keys.append(name); points[name] = [] }
                points[name]!.append((step, y))
            }
        }
    }

    public init(path: String) throws {
        let source = try ByteSource(path: path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0.baseAddress!, count: $0.count) }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        try self.init(bytes, name: path)
    }

    /// The quantities plotted together by default, in panel order; a key of
    /// no group gets a panel of its own after them.
    public static let groups: [(title: String, keys: [String])] = [
        ("training loss", ["loss", "l1", "l2", "mse", "commit", "lq"]),
        ("quantizer entropies (nats)", ["h_ps", "h_cb"]),
        ("reconstruction (dB)", ["l1_db", "val_l1_db", "val_lsd"]),
        ("learning rate", ["lr"]),
        ("gradient norm", ["grad_norm"]),
        ("code entropy (bits)", ["code_entropy", "val_code_entropy", "val_entropy"]),
        ("distinct codes", ["code_usage", "val_code_usage"]),
        ("steps per second", ["steps_per_s"]),
        ("adversarial losses", ["g_loss", "d_loss"]),
        ("discriminator logits", ["logits_real", "logits_fake"]),
        ("adaptive weight", ["d_weight"]),
        ("vocoder: mel L1 (log) and STFT losses", ["mel", "val_mel", "stft", "val_stft"]),
    ]

    /// The default panels over the keys present in `logs`: one per group
    /// that has any, then one per other key (other `val_` keys in dB join the
    /// reconstruction panel, `loss`-named ones the loss panel).
    public static func defaultPanels(_ logs: [TrainingLog]) -> [(title: String, keys: [String])] {
        var present: [String] = []
        for log in logs { for k in log.keys where !present.contains(k) { present.append(k) } }
        var panels = groups.map { (title: $0.title, keys: $0.keys.filter(present.contains)) }
        let grouped = Set(groups.flatMap(\.keys))
        var others: [(title: String, keys: [String])] = []
        for k in present where !grouped.contains(k) {
            if k.hasPrefix("val_") && (k.hasSuffix("_db") || k.hasSuffix("lsd")) { panels[2].keys.append(k) }
            else if k.hasPrefix("loss_") || k.hasSuffix("_loss") { panels[0].keys.append(k) }
            else { others.append((k, [k])) }
        }
        return (panels + others).filter { !$0.keys.isEmpty }
    }

    /// The panels `bsq-plot curves` draws: one per entry of `keys` (a
    /// comma-separated list), or the default ones when there is none. A key
    /// no log has, or no number to plot at all, is an error.
    public static func panels(_ logs: [TrainingLog], keys: [String]) throws -> [(title: String, keys: [String])] {
        var panels = defaultPanels(logs)
        if !keys.isEmpty {
            panels = keys.map { list in
                let names = list.split(separator: ",").map { String($0).trimmingSpaces }
                return (names.joined(separator: ", "), names)
            }
            for key in panels.flatMap(\.keys) where !logs.contains(where: { $0.points[key] != nil }) {
                throw BSQError("no log has the key \(key)")
            }
        }
        if panels.isEmpty { throw BSQError("no numbers to plot in \(logs.map(\.name).joined(separator: ", "))") }
        return panels
    }

    /// The short names series are labelled with: file names without their
    /// extension, or the paths as given when two file names are the same.
    public static func labels(_ paths: [String]) -> [String] {
        func short(_ p: String) -> String {
            if p == "-" { return "stdin" }
            let base = p.split(separator: "/").last.map(String.init) ?? p
            return base.contains(".") ? String(base[..<base.lastIndex(of: ".")!]) : base
        }
        let names = paths.map(short)
        return Set(names).count == names.count ? names : paths
    }

    /// The default figure of one log (every quantity it has), as a PNG file.
    public static func writeCurves(log path: String, title: String?, to output: String) throws {
        let log = try TrainingLog(path: path)
        let panels = defaultPanels([log])
        if panels.isEmpty { return }
        try plot([log], labels: [log.name], panels: panels, logY: false, smooth: 0, title: title).render().write(to: output)
    }

    /// A figure of `panels` over `logs`: one line per key and log, coloured
    /// in turn. With `smooth` in (0, 1), each line is an exponential moving
    /// average (weight `smooth` on the past, as TensorBoard does) drawn over
    /// its raw values; the learning rate, a schedule, is never smoothed.
    public static func plot(_ logs: [TrainingLog], labels: [String], panels: [(title: String, keys: [String])],
                            logY: Bool, smooth: Double, title: String?) -> LinePlot {
        let figure = panels.map { panel -> LinePlot.Panel in
            var series: [LinePlot.Series] = []
            for (log, label) in zip(logs, labels) {
                for key in panel.keys {
                    guard let points = log.points[key] else { continue }
                    let name = logs.count == 1 ? key : panel.keys.count == 1 ? label : "\(label) \(key)"
                    let color = LinePlot.palette[series.filter { !$0.faded }.count % LinePlot.palette.count]
                    if smooth > 0 && key != "lr" {
                        series.append(.init(name: name, points: points, color: color, faded: true))
                        series.append(.init(name: name, points: ema(points, smooth), color: color))
                    } else {
                        series.append(.init(name: name, points: points, color: color))
                    }
                }
            }
            return LinePlot.Panel(title: panel.title, series: series, logY: logY)
        }
        return LinePlot(title: title, xLabel: "step", panels: figure)
    }

    /// Exponential moving average with TensorBoard's debiasing; gaps stay gaps.
    static func ema(_ points: [(x: Double, y: Double)], _ weight: Double) -> [(x: Double, y: Double)] {
        var last = 0.0, n = 0
        return points.map { p in
            guard p.y.isFinite else { return p }
            last = last * weight + (1 - weight) * p.y
            n += 1
            return (p.x, last / (1 - Foundation.pow(weight, Double(n))))
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
