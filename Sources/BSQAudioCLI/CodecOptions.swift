import ArgumentParser
import BSQAudio
import Foundation

/// Options shared by `bsq-encode` and `bsq-decode`.
public struct CodecOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("The model checkpoint (safetensors; default: the kit's trained tiny 18-bit model).", valueName: "file"), completion: .file())
    public var model: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write frames to this file (atomically) instead of standard output.", valueName: "file"), completion: .file())
    public var output: String?

    @Option(help: ArgumentHelp("Threads for the matrix products (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    @Option(help: ArgumentHelp("Chunks of 10.24 s run through the model together.", valueName: "n"))
    public var batch = 4

    @Flag(help: "Compress payloads with zstd.")
    public var zstd = false

    @Flag(help: "Report on stderr the time spent in the model: ms per chunk and GFLOP/s.")
    public var timing = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors (no progress on a terminal).")
    public var quiet = false

    @Argument(help: "Frame streams to read (default: standard input).", completion: .file())
    public var files: [String] = []

    @OptionGroup public var sharding: ShardOption<ShardFrames>

    public init() {}

    public func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be > 0 (got \(threads))") }
        if batch <= 0 { throw ValidationError("--batch must be > 0 (got \(batch))") }
        try sharding.checkFrameFiles(files)
    }

    /// Loads the model, sets the threads, runs `body` with the inputs (this
    /// part of them with --shard) and the output writer, commits -o.
    public func run(flopsPerChunk: (ModelConfig) -> Double, _ body: (Codec, FrameInputs, FrameWriter) throws -> Void) throws {
        let target = OutputTarget(output)
        try target.check(inputs: files)
        let inputs = try sharding.frames(files)
        let codec = Codec(try Checkpoint(path: try model ?? DefaultModel.path()), batch: batch,
                          threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        codec.isDefaultModel = model == nil
        codec.progress = ProgressBar(counting: "frames", enabled: !quiet)
        defer { codec.progress?.finish() }
        defer { if timing { report(codec, flopsPerChunk(codec.model.config)) } }
        try target.withFrameWriter(zstd: zstd) { try body(codec, inputs, $0) }
    }

    private func report(_ codec: Codec, _ flops: Double) {
        guard codec.chunksRun > 0 else { return }
        let ms = codec.modelSeconds / Double(codec.chunksRun) * 1000
        let gflops = flops * Double(codec.chunksRun) / codec.modelSeconds / 1e9
        // audio: the utterances' own seconds, not the padding of their last chunks
        FileHandleStderr.write(String(format: "%@: %d chunks, batch %d, %d threads: %.1f ms per chunk, %.1f GFLOP/s, %.0f s of audio per s\n",
                                      ToolProcess.name, codec.chunksRun, codec.batch, codec.model.threads, ms, gflops,
                                      codec.audioSeconds / codec.modelSeconds))
    }
}
