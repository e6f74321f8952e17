/// A frame checked to be a log-mel spectrogram (FORMAT.md, kind "mel"):
/// `f32`, dims `[frames, n_mels]`, values in dB.
public struct MelFrame: Sendable {
    public let frame: Frame
    public let values: [Float]
    public var frames: Int { frame.dims[0] }
    public var nMels: Int { frame.dims[1] }
    public var key: String? { frame.key }

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
    }

    /// `mel.db.top_db` of the metadata, when it is a number (`mel --top-db`).
    public var topDB: Double? { frame.meta["mel"]?["db"]?["top_db"]?.number }
}
