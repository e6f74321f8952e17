import ArgumentParser
import BSQAudio

/// What a tool's `--shard K/N` splits: its input files (`mel`) or the frames of its input streams.
public protocol ShardUnit {
    static var help: String { get }
}

/// `mel`'s unit: the input files, after folders are searched and lists read.
public enum ShardFiles: ShardUnit {
    public static let help = "Do only the K-th of N contiguous, balanced parts of the input files (K from 1, N at most \(Shard.maxParts)); bsq-tensor cat of parts 1…N is the whole output."
}

/// The frame tools' unit: the frames of all the input streams, which must be files.
public enum ShardFrames: ShardUnit {
    public static let help = "Do only the K-th of N contiguous, balanced parts of the input frames (K from 1, N at most \(Shard.maxParts); frame files, not standard input); bsq-tensor cat of parts 1…N is the whole output."
}

/// `--shard K/N`, the one option every batch tool shares for splitting its work
/// among N machines or array jobs (`Shard`: part K of M inputs is ⌊(K−1)·M/N⌋ ..< ⌊K·M/N⌋).
public struct ShardOption<Unit: ShardUnit>: ParsableArguments {
    @Option(name: .customLong("shard"), help: ArgumentHelp(Unit.help, valueName: "K/N"))
    public var text: String?

    public init() {}

    /// The part asked for, nil for the whole job.
    public var shard: Shard? { text.flatMap { try? Shard(parsing: $0) } }

    public func validate() throws {
        if let text {
            do { _ = try Shard(parsing: text) } catch let e as BSQError { throw ValidationError(e.message) }
        }
    }

    /// The part of `items` to do (all of them without --shard).
    public func part<T>(of items: [T]) -> [T] { shard?.part(of: items) ?? items }

    /// Standard input cannot be split: its frames would have to be counted, then read again.
    public func checkFrameFiles(_ files: [String]) throws {
        if let text, files.isEmpty || files.contains("-") {
            throw ValidationError("--shard \(text): standard input cannot be read twice (once to count its frames): give frame files")
        }
    }

    /// The frames of `files`, only this part of them with --shard (counted first).
    public func frames(_ files: [String]) throws -> FrameInputs {
        var inputs = FrameInputs(files)
        if let shard { try inputs.select(shard) }
        return inputs
    }
}
