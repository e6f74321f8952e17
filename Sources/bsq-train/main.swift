import ArgumentParser
import BSQAudio

@main
struct BSQTrain: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "bsq-train",
        abstract: "Create and train BSQ-ViT audio tokenizer checkpoints.",
        discussion: """
            Examples:
              bsq-train init --preset tiny --bits 18 --seed 1 -o init.safetensors
              mel a.wav | bsq-encode -m init.safetensors | bsq-tensor info
            """,
        subcommands: [Init.self])
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a randomly initialised checkpoint of a preset.",
        discussion: """
            Linear weights, depthwise kernels and positional embeddings are normal with std 0.02, \
            biases 0, norm weights 1, BatchNorm running mean 0 and variance 1. The file is written \
            atomically.
            """)

    @Option(help: "Model size: tiny, small or base.")
    var preset: String = "tiny"

    @Option(help: "Bits per token (the BSQ embedding dimension), e.g. 9, 18 or 36.")
    var bits: Int?

    @Option(help: "Bits per entropy group (default 9, or the bit count when smaller).")
    var groupSize: Int?

    @Flag(inversion: .prefixedNo, help: "Include the Conformer convolution module (default: on).")
    var conv = true

    @Option(help: "Seed of the initialisation.")
    var seed: UInt64 = 0

    @Option(help: "Name recorded in the config (default: the preset).")
    var name: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Checkpoint to write.", valueName: "file"))
    var output: String

    func config() throws -> ModelConfig {
        guard var c = ModelConfig.presets[preset] else {
            throw ValidationError("--preset must be tiny, small or base (got \(preset))")
        }
        if let bits { c.embed_dim = bits; c.group_size = min(9, bits) }
        if let groupSize { c.group_size = groupSize }
        c.conv_module = conv
        if let name { c.name = name } else { c.name = bits == nil || bits == 18 ? preset : "\(preset)\(c.embed_dim)" }
        do { try c.validate() } catch let e as BSQError { throw ValidationError(e.message) }
        return c
    }

    func validate() throws { _ = try config() }

    func run() throws {
        try Checkpoint.initialized(try config(), seed: seed).write(to: output)
    }
}
