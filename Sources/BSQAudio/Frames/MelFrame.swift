/// A log-mel spectrogram frame (bsqt(5), kind "mel"): `f32`, dims
/// `[frames, n_mels]`, values in dB, with its metadata — built for writing,
/// or checked and read from a frame.
public struct MelFrame: Sendable {
    public let frame: Frame
    public let values: [Float]
    public var frames: Int { frame.dims[0] }
    public var nMels: Int { frame.dims[1] }

    /// Which rows of a longer spectrogram a fitted frame holds (`mel --frames`):
    /// the metadata `crop` {"offset", "of"}.
    public struct Crop: Sendable, Equatable {
        /// The first row kept.
        public var offset: Int
        /// The rows of the whole spectrogram.
        public var of: Int

        public init(offset: Int, of: Int) {
            self.offset = offset
            self.of = of
        }
    }

    /// Keys of a passed-on frame's metadata that a mel frame drops: the ones
    /// it sets itself and those of codes.
    static let notPassed: Set<String> = ["kind", "axes", "frames", "bits", "model"]

    /// A mel frame of `values` (`frames · nMels` of them, time-major) with
    /// the metadata `metadata(key:source:analysis:crop:passing:)`.
    public init(values: [Float], frames: Int, nMels: Int, key: String? = nil, source: String? = nil,
                analysis: MelAnalysis? = nil, crop: Crop? = nil, decodedBy: CodesFrame.Model? = nil, passing: JSONObject = JSONObject()) {
        precondition(values.count == frames * nMels, "mel values do not match frames × n_mels")
        let meta = MelFrame.metadata(key: key, source: source, analysis: analysis, crop: crop, decodedBy: decodedBy, passing: passing)
        frame = Frame(values, dims: [frames, nMels], meta: meta)
        self.values = values
    }

    /// A mel frame's metadata: `kind` "mel", the keys of `passing` (the
    /// metadata of the frame this one comes from, such as the codes it was
    /// decoded from) but `axes` and those of codes (`frames`, `bits`,
    /// `model`), in their order, then `key`, `source`, `axes` ["time", "mel"],
    /// `mel` (the analysis), `crop` and `decoded_by` (the model whose decoder
    /// made the frame: `bsq-decode`'s frames): each one given replaces the
    /// passed-on value in its place, or comes after them. (For a writer that
    /// encodes the values from where they are, without the copy a `Frame` holds.)
    public static func metadata(key: String? = nil, source: String? = nil, analysis: MelAnalysis? = nil, crop: Crop? = nil,
                                decodedBy: CodesFrame.Model? = nil, passing: JSONObject = JSONObject()) -> JSONObject {
        var meta = JSONObject()
        meta["kind"] = "mel"
        for (k, v) in passing.pairs where !MelFrame.notPassed.contains(k) { meta[k] = v }
        if let key { meta["key"] = .string(key) }
        if let source { meta["source"] = .string(source) }
        meta["axes"] = ["time", "mel"]
        if let analysis { meta["mel"] = analysis.metadata }
        if let crop { meta["crop"] = ["offset": JSONValue(crop.offset), "of": JSONValue(crop.of)] }
        if let decodedBy { meta["decoded_by"] = decodedBy.metadata }
        return meta
    }

    /// Throws, with a message naming what the frame is instead, unless it is a mel frame.
    public init(_ frame: Frame) throws {
        guard frame.kind == "mel", frame.dtype == .f32, frame.dims.count == 2 else {
            let kind = frame.kind.map { "\"\($0)\"" } ?? "none"
            let dims = "[" + frame.dims.map(String.init).joined(separator: ",") + "]"
            throw BSQError("not a mel frame: kind \(kind), \(frame.dtype.name) \(dims) "
                + "(expected kind \"mel\", f32 [frames, n_mels])")
        }
        self.frame = frame
        self.values = try frame.values()
        try values.withUnsafeBytes { try MelFrame.checkFinite($0, bands: frame.dims[1]) }
    }

    /// Throws, naming the first one, unless every f32 value of `payload` (rows of `bands`) is finite.
    public static func checkFinite(_ payload: UnsafeRawBufferPointer, bands: Int) throws {
        for i in 0..<(payload.count / 4) {
            let v = payload.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
            if !v.isFinite { throw BSQError("mel value [\(i / max(bands, 1)), \(i % max(bands, 1))] is \(v) (a mel frame holds finite dB)") }
        }
    }

    public var key: String? { frame.key }
    public var source: String? { frame.meta["source"]?.string }
    /// Whether `bsq-decode` made the frame from codes (its metadata names the model as `decoded_by`).
    public var isDecoded: Bool { frame.meta["decoded_by"] != nil }

    /// The analysis of the metadata's `mel` (nil without one); throws naming
    /// a key of the wrong type or value.
    public func analysis() throws -> MelAnalysis? {
        try frame.meta["mel"].map { try MelAnalysis(metadata: $0) }
    }

    /// `mel.db.top_db` of the metadata, when it is a number (`mel --top-db`).
    public var topDB: Double? { frame.meta["mel"]?["db"]?["top_db"]?.number }

    /// The metadata's `crop`, when it holds two integers.
    public var crop: Crop? {
        guard let c = frame.meta["crop"], let offset = c["offset"]?.int, let of = c["of"]?.int else { return nil }
        return Crop(offset: offset, of: of)
    }
}
