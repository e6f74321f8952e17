import ArgumentParser
import BSQAudio

// The library's option types, as the tools' options take them.
extension MelScale: ExpressibleByArgument {}
extension MelNorm: ExpressibleByArgument {}
extension MelAnalysis.PadMode: ExpressibleByArgument {}
extension FrameFit.Crop: ExpressibleByArgument {}
extension SoundFile.Format: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// A `--meta` argument: a JSON object, or `@FILE` holding one.
public enum MetadataArgument {
    public static func parse(_ text: String) throws -> JSONObject {
        var source = text
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            source = String(decoding: try ByteSource(path: path).readAll(limit: FrameReader.maxMeta), as: UTF8.self)
        }
        guard case .object(let o)? = try? JSONValue.parse(source) else {
            throw BSQError("--meta must be a JSON object (got \(text.prefix(60)))")
        }
        return o
    }
}

/// What the tools' operands may say of standard input.
public enum StandardInput {
    /// `-` (standard input) may stand once among `paths`.
    public static func checkReadOnce(_ paths: [String]) throws {
        if paths.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
    }
}
