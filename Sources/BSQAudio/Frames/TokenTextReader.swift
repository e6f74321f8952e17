/// `bsq-tensor from-text`: lines of tokens (`TokenText`'s tsv or jsonl) to
/// codes frames. Each value of a frame comes from the option when it is
/// given, else from the line (jsonl), else from `config` (the `--model`
/// checkpoint's, or the kit's defaults: 18 bits, 8 frequency patches, 16 mel
/// frames per time patch, chunks of 1024 frames); `frames` defaults to
/// time_patches × patch_time. Every line is checked before a frame is made.
public struct TokenTextReader {
    public var format = TokenText.Format.tsv
    /// `--bits`, `--freq-patches`, `--frames`.
    public var bits: Int?
    public var freqPatches: Int?
    public var frames: Int?
    /// `--model`, or `--model-name` with `--model-sha256`: the `model` metadata.
    public var model: CodesFrame.Model?
    /// The model's configuration when `--model` names a checkpoint: then the
    /// bits and frequency patches must be its own.
    public var checkpointConfig: ModelConfig?

    public init() {}

    /// Codes for `checkpoint` (`--model`): its name, sha256 and configuration;
    /// `bits` and `freqPatches`, when given, must be its own.
    public mutating func use(_ checkpoint: Checkpoint, isDefault: Bool) throws {
        let c = checkpoint.config
        if let bits, bits != c.embed_dim { throw BSQError("--bits \(bits), but \(checkpoint.name) makes \(c.embed_dim)-bit tokens") }
        if let freqPatches, freqPatches != c.nf { throw BSQError("--freq-patches \(freqPatches), but \(checkpoint.name) makes \(c.nf)") }
        checkpointConfig = c
        model = CodesFrame.Model(name: checkpoint.name, sha256: checkpoint.sha256, isDefault: isDefault)
    }

    var config: ModelConfig { checkpointConfig ?? ModelConfig() }

    /// The codes frames of every line of `paths`, in order (blank lines are
    /// skipped); an error names the file and the line.
    public func frames(_ paths: [String]) throws -> [Frame] {
        var out: [Frame] = []
        for path in paths.isEmpty ? ["-"] : paths {
            var lines = try TextLines(path: path)
            while let line = try lines.next() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                do { out.append(try frame(line)) } catch let e as BSQError {
                    throw BSQError("\(lines.name):\(lines.number): \(e.message)")
                }
            }
        }
        return out
    }

    /// The codes frame of one line.
    public func frame(_ line: ArraySlice<UInt8>) throws -> Frame {
        switch format {
        case .tsv: return try tsv(line)
        case .jsonl: return try jsonl(line)
        }
    }

    // MARK: - tsv

    func tsv(_ line: ArraySlice<UInt8>) throws -> Frame {
        if line.first == UInt8(ascii: "{") { throw BSQError("a JSON object, not KEY<TAB>tokens: give --format jsonl") }
        // KEY<TAB>tokens; a line without a tab is Kaldi's KEY tokens
        let end = line.firstIndex(of: 0x09) ?? line.firstIndex(of: 0x20) ?? line.endIndex
        guard let key = String(validating: line[line.startIndex..<end], as: UTF8.self) else { throw BSQError("the key is not UTF-8") }
        guard !key.isEmpty else { throw BSQError("no key before the tokens (KEY<TAB>t0 t1 …)") }
        try TokenText.checkKey(key)
        let bits = self.bits ?? config.embed_dim
        let tokens = try TokenTextReader.tokens(line[end...], bits: bits)
        var passing = JSONObject()
        passing["key"] = .string(key)
        return try make(tokens, shape: nil, bits: bits, lineFrames: nil, lineCovered: nil, lineModel: nil, passing: passing)
    }

    /// Decimal tokens separated by spaces or tabs, each below 2^bits.
    static func tokens(_ text: ArraySlice<UInt8>, bits: Int) throws -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(text.count / 2)
        var i = text.startIndex
        let end = text.endIndex
        while i < end {
            while i < end, text[i] == 0x20 || text[i] == 0x09 { i += 1 }
            if i == end { break }
            let s = i
            var v: UInt64 = 0, digits = true, overflow = false
            while i < end, text[i] != 0x20, text[i] != 0x09 {
                let c = text[i]
                if c >= 0x30 && c <= 0x39 {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
                    overflow = overflow || o1 || o2
                    v = a
                } else {
                    digits = false
                }
                i += 1
            }
            var word: String { String(decoding: text[s..<min(i, s + 40)], as: UTF8.self) + (i - s > 40 ? "…" : "") }
            guard digits else { throw BSQError("token \(out.count + 1) (\(JSONValue.string(word).serialized())) is not a decimal integer") }
            if overflow || (bits < 64 && v >> UInt64(bits) != 0) {
                throw BSQError("token \(out.count + 1) (\(word)) does not fit in \(bits) bits")
            }
            out.append(v)
        }
        return out
    }

    // MARK: - jsonl

    func jsonl(_ line: ArraySlice<UInt8>) throws -> Frame {
        let value: JSONValue
        do { value = try JSONValue.parse(line) } catch let e as JSONValue.ParseError { throw BSQError("not JSON: \(e)") }
        guard case .object(let o) = value else { throw BSQError("not a JSON object") }
        guard let keyValue = o["key"] else { throw BSQError("no \"key\"") }
        guard let key = keyValue.string else { throw BSQError("\"key\" is not a string") }
        try TokenText.checkKey(key)
        if let kind = o["kind"], kind != "codes" { throw BSQError("\"kind\" is \(kind.serialized()): from-text makes codes") }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = o[name] else { return nil }
            guard let n = v.int, range.contains(n) else {
                throw BSQError("\"\(name)\" must be an integer from \(range.lowerBound)\(range.upperBound == .max ? " up" : " to \(range.upperBound)") (got \(v.serialized().prefix(40)))")
            }
            return n
        }
        let bits = try self.bits ?? integer("bits", 1...64) ?? config.embed_dim
        var shape: [Int]?
        if let s = o["shape"] {
            guard let a = s.array, a.count == 2, let t = a[0].int, let f = a[1].int, t > 0, f > 0 else {
                throw BSQError("\"shape\" must be [time_patches, freq_patches], two integers > 0 (got \(s.serialized().prefix(40)))")
            }
            shape = [t, f]
        }
        guard let list = o["tokens"] else { throw BSQError("no \"tokens\"") }
        guard let array = list.array else { throw BSQError("\"tokens\" is not a list") }
        var tokens: [UInt64] = []
        tokens.reserveCapacity(array.count)
        for (i, v) in array.enumerated() {
            guard let t = TokenTextReader.unsigned(v) else {
                throw BSQError("token \(i + 1) (\(v.serialized().prefix(40))) is not an integer from 0 up")
            }
            if bits < 64, t >> UInt64(bits) != 0 { throw BSQError("token \(i + 1) (\(t)) does not fit in \(bits) bits") }
            tokens.append(t)
        }
        var lineModel: JSONValue?
        if let m = o["model"] {
            guard m["name"]?.string != nil, let sha = m["sha256"]?.string, TokenTextReader.isSHA256(sha) else {
                throw BSQError("\"model\" must be {\"name\": …, \"sha256\": 64 hex digits} (got \(m.serialized().prefix(80)))")
            }
            lineModel = m
        }
        if let mel = o["mel"] {
            guard case .object = mel else { throw BSQError("\"mel\" is not an object") }
            _ = try MelAnalysis(metadata: mel)
        }
        var passing = JSONObject()
        for (k, v) in o.pairs where !TokenText.fields.contains(k) { passing[k] = v }
        return try make(tokens, shape: shape, bits: bits, lineFrames: try integer("frames", 1...Int.max),
                        lineCovered: try integer("covered_time_patches", 1...Int.max), lineModel: lineModel, passing: passing)
    }

    /// A JSON number that is an integer from 0 to 2^64 − 1.
    static func unsigned(_ v: JSONValue) -> UInt64? {
        switch v {
        case .exactNumber(let text): return UInt64(text)
        case .number(let n): return n >= 0 && n.rounded() == n && n < 18_446_744_073_709_551_616.0 ? UInt64(n) : nil
        default: return nil
        }
    }

    public static func isSHA256(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    // MARK: - the frame

    /// The codes frame of `tokens`, everything checked first.
    func make(_ tokens: [UInt64], shape: [Int]?, bits: Int, lineFrames: Int?, lineCovered: Int?, lineModel: JSONValue?,
              passing: JSONObject) throws -> Frame {
        let c = config
        guard !tokens.isEmpty else { throw BSQError("no tokens") }
        let freq = freqPatches ?? shape?[1] ?? c.nf
        if let freqPatches, let shape, shape[1] != freqPatches {
            throw BSQError("\"shape\" \(shape) has \(shape[1]) frequency patches, --freq-patches \(freqPatches)")
        }
        guard tokens.count % freq == 0 else {
            throw BSQError("\(tokens.count) tokens do not make whole time patches of \(freq) frequency patches (a ragged line?)")
        }
        let rows = tokens.count / freq
        if let shape, shape[0] != rows { throw BSQError("\"shape\" \(shape) holds \(shape[0] * shape[1]) tokens, the line \(tokens.count)") }
        if let k = checkpointConfig {
            if bits != k.embed_dim { throw BSQError("codes of \(bits) bits, the model makes \(k.embed_dim)") }
            if freq != k.nf { throw BSQError("\(freq) frequency patches, the model makes \(k.nf)") }
        }
        let frames = self.frames ?? lineFrames ?? rows * c.patch_time
        func ceilDiv(_ a: Int, _ b: Int) -> Int { a / b + (a % b == 0 ? 0 : 1) }   // no overflow near Int.max
        let covered = (self.frames == nil ? lineCovered : nil) ?? ceilDiv(frames, c.patch_time)
        guard covered <= rows else {
            throw BSQError("\(frames) frames take \(covered) time patches of \(c.patch_time), the line has \(rows)")
        }
        guard ceilDiv(frames, c.frames) == ceilDiv(rows, c.nt) else {
            throw BSQError("\(frames) frames do not fit \(rows) time patches in chunks of \(c.frames) frames (\(c.nt) time patches)"
                + (checkpointConfig == nil ? "; --model names a model with other chunks" : ""))
        }
        var meta = passing
        if meta["mel"] == nil {
            var a = MelAnalysis()
            a.sampleRate = c.sampleRate
            a.hopLength = c.hopLength
            a.nMels = c.n_mels
            meta["mel"] = a.metadata
        }
        let modelValue = model?.metadata ?? lineModel
        var frame = CodesFrame(tokens: tokens, timePatches: rows, freqPatches: freq, bits: bits, frames: frames, covered: covered,
                               model: CodesFrame.Model(name: "", sha256: ""), passing: meta).frame
        frame.meta["model"] = modelValue   // in its place, or none
        // what the other tools ask of codes (a "mel" without hop_length or sample_rate once passed; the fuzzer's finding)
        _ = try CodesFrame(frame)
        return frame
    }
}
