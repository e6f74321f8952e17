/// Codes frames as lines of text (`bsq-tensor to-text`), one line per frame:
///
/// - `tsv`: `KEY<TAB>t0 t1 t2 …`, the tokens as decimal integers separated
///   by one space, in the frame's row-major order (time patch by time patch,
///   frequency patches from the lowest mel bands up): a Kaldi text archive
///   whose key may hold spaces.
/// - `jsonl`: one JSON object: `key`, then the frame's metadata but `kind`
///   and `axes` (`source`, `mel`, `frames`, `covered_time_patches`, `bits`,
///   `model`…, in their order), then `shape` [time_patches, freq_patches]
///   and `tokens`, the flat list; `from-text` makes the same frame back.
public enum TokenText {
    public enum Format: String, CaseIterable, Sendable {
        case tsv, jsonl
    }

    /// The longest line `from-text` reads (about 2 million tokens: 11 hours of audio at 50 tokens a second).
    public static let maxLineBytes = 16 << 20

    /// Fields of a jsonl line that are not metadata.
    static let fields: Set<String> = ["tokens", "shape"]

    /// Throws unless `key` can stand on a text line: non-empty, without tab, line feed or carriage return.
    public static func checkKey(_ key: String) throws {
        guard !key.isEmpty else { throw BSQError("empty key") }
        if key.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw BSQError("key \(JSONValue.string(key).serialized()) holds a tab or a line break")
        }
    }

    /// The line (without its line feed) for the codes frame `frame`, the
    /// `index`-th of the input: its key (`frame-NNNNNN` by the index when it
    /// has none), its tokens, or only those of its covered time patches.
    public static func line(_ frame: Frame, index: Int, format: Format, coveredOnly: Bool) throws -> String {
        let label = frame.label(index: index)
        let codes: CodesFrame
        do { codes = try CodesFrame(frame) } catch let e as BSQError {
            throw BSQError("\(label): \(e.message); to-text writes the tokens of codes frames")
        }
        let freq = frame.dims[1]
        let rows = coveredOnly ? codes.coveredTimePatches : frame.dims[0]
        guard rows > 0, freq > 0 else { throw BSQError("\(label): no tokens (dims \(frame.dims))") }
        var key = frame.key ?? ""
        if key.isEmpty {
            let n = String(index)
            key = "frame-" + String(repeating: "0", count: max(0, 6 - n.count)) + n
        }
        do { try checkKey(key) } catch let e as BSQError { throw BSQError("\(label): \(e.message)") }
        let tokens = codes.tokens[0..<(rows * freq)]
        switch format {
        case .tsv:
            var out = key + "\t"
            out.reserveCapacity(out.utf8.count + tokens.count * 7)
            append(tokens, separator: " ", to: &out)
            return out
        case .jsonl:
            var o = JSONObject()
            o["key"] = .string(key)
            for (k, v) in frame.meta.pairs where k != "kind" && k != "axes" && k != "key" {
                if fields.contains(k) { throw BSQError("\(label): metadata '\(k)' would clash with the line's own field") }
                o[k] = v
            }
            if o["covered_time_patches"] == nil { o["covered_time_patches"] = JSONValue(codes.coveredTimePatches) }
            var out = String(JSONValue.object(o).serialized().dropLast())
            out.reserveCapacity(out.utf8.count + tokens.count * 7 + 64)
            out += ",\"shape\":[\(rows),\(freq)],\"tokens\":["
            append(tokens, separator: ",", to: &out)
            out += "]}"
            return out
        }
    }

    private static func append(_ tokens: ArraySlice<UInt64>, separator: Character, to out: inout String) {
        var first = true
        for t in tokens {
            if !first { out.append(separator) }
            first = false
            out += String(t)
        }
    }
}

/// The lines of a file or of standard input, each without its line feed (and
/// without a carriage return before it), at most `limit` bytes long.
public struct TextLines {
    private let source: ByteSource
    private let limit: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// The number of the line last returned, from 1.
    public private(set) var number = 0
    public var name: String { source.name }

    public init(path: String, limit: Int = TokenText.maxLineBytes) throws {
        source = try ByteSource(path: path)
        self.limit = limit
    }

    /// The next line, or nil at the end of the input.
    public mutating func next() throws -> ArraySlice<UInt8>? {
        var scanned = start
        while true {
            if let nl = buffer[scanned...].firstIndex(of: 0x0A) {
                number += 1
                guard nl - start <= limit else { throw lineTooLong() }
                let end = nl > start && buffer[nl - 1] == 0x0D ? nl - 1 : nl
                defer { start = nl + 1 }
                return buffer[start..<end]
            }
            scanned = buffer.count
            if atEnd {
                guard start < buffer.count else { return nil }
                number += 1
                guard buffer.count - start <= limit else { throw lineTooLong() }
                defer { start = buffer.count }
                let end = buffer.last == 0x0D ? buffer.count - 1 : buffer.count
                return buffer[start..<end]
            }
            if buffer.count - start > limit {
                number += 1
                throw lineTooLong()
            }
            if start > 0 {   // keep the unfinished line only
                buffer.removeFirst(start)
                scanned -= start
                start = 0
            }
            let old = buffer.count, chunk = 1 << 20
            buffer += repeatElement(0, count: chunk)
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0.baseAddress! + old, count: chunk) }
            buffer.removeLast(chunk - n)
            if n < chunk { atEnd = true }
        }
    }

    private func lineTooLong() -> BSQError {
        BSQError("\(name):\(number): line longer than \(limit >> 20) MiB")
    }
}
