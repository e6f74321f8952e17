import ArgumentParser
import BSQAudio
import BSQAudioCLI

@main
struct BSQEncode: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "bsq-encode",
        abstract: "Turn log-mel frames into BSQ token codes with a BSQ-ViT model.",
        discussion: """
            Reads mel frames (f32 [frames, n_mels], dB) and writes one codes frame per utterance: \
            u32 [time_patches, freq_patches] (u64 above 32 bits), with the bit count, the frame \
            count, the covered time patches and the model's name and sha256 in its metadata. Mel \
            of any length is cut into chunks of the model's length, the last padded with the dB \
            floor; the time patches that hold mel frames (⌈frames / 16⌉) are the covered ones, and \
            --trim writes only those (bsq-decode completes them).

            Examples:
              mel a.wav | bsq-encode -m model.safetensors > a.codes
              mel corpus/ | bsq-encode --trim -o corpus.tokens      # covered tokens only, for a language model
              mel corpus/ | bsq-encode -m model.safetensors --batch 8 --zstd -o corpus.codes
              bsq-encode --shard 2/8 -o part2.codes corpus.mel     # the second of 8 parts of the frames
              bsq-encode -m model.safetensors a.mel | bsq-decode -m model.safetensors | spec-metrics a.mel -
            """,
        version: KitVersion.text(tool: "bsq-encode")
    )

    @OptionGroup var options: CodecOptions

    @Flag(help: "Write only the covered time patches (those holding mel frames), not the padding of the last chunk.")
    var trim = false

    func run() throws {
        try options.run(flopsPerChunk: \.encodeFlops) { codec, inputs, out in
            codec.trim = trim
            try codec.encode(inputs, to: out, diagnostics: ToolProcess.diagnostics())
        }
    }
}
