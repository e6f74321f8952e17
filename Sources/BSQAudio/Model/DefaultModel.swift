import Foundation

/// The model shipped with the kit (`tiny`, 18 bits, F16; trained by
/// `make experiment`), used by `bsq-encode` and `bsq-decode` when no `-m` is given.
public enum DefaultModel {
    public static let fileName = "bsq-audio-tiny18.safetensors"

    /// Where it is looked for: `$BSQ_DEFAULT_MODEL` when set; else beside the
    /// executable's `../share/bsq-audio/` (what `make install` writes), then the
    /// package's resource folder beside the executable (a `swift build` tree).
    public static func candidates(executable: String = runningExecutable, fileName: String = fileName,
                                  variable: String = "BSQ_DEFAULT_MODEL") -> [String] {
        if let env = ProcessInfo.processInfo.environment[variable], !env.isEmpty { return [env] }
        var out: [String] = []
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        out.append(exe.deletingLastPathComponent().appendingPathComponent("share/bsq-audio/" + fileName).path)
        out.append(exe.appendingPathComponent("bsq-audio_BSQAudio.resources/" + fileName).path)
        return out
    }

    /// This process's executable (found through PATH or not), from /proc/self/exe.
    public static var runningExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The first candidate that exists.
    public static func path() throws -> String {
        let all = candidates()
        guard let p = all.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw BSQError("no model given (-m) and the default model is not installed (looked for \(all.joined(separator: ", ")))")
        }
        return p
    }

    /// The shipped vocoder (`mel2wav --vocoder default`), found the same way
    /// (`$BSQ_DEFAULT_VOCODER` first).
    public static func vocoderPath() throws -> String {
        let all = candidates(fileName: NeuralVocoder.defaultFileName, variable: "BSQ_DEFAULT_VOCODER")
        guard let p = all.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw BSQError("the default vocoder is not installed (looked for \(all.joined(separator: ", "))): use --vocoder griffin-lim or FILE")
        }
        return p
    }
}
