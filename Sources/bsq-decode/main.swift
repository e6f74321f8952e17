import ArgumentParser
import BSQAudio
import BSQAudioCLI

@main
struct BSQDecode: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "bsq-decode",
        abstract: "Turn BSQ token codes back into log-mel frames with a BSQ-ViT model.",
        discussion: """
            Reads codes frames made by bsq-encode and writes mel frames (f32 [frames, n_mels], dB), \
            exactly as many frames as were encoded. Codes made by another model (by sha256) are \
            refused unless --force. Trimmed codes (bsq-encode --trim, or any codes whose time \
            patches end inside a chunk) have their last chunk completed with the tokens the model \
            gives a chunk of silence.

            Examples:
              bsq-decode -m model.safetensors a.codes > a.rec.mel
              mel a.wav | bsq-encode -m m.safetensors | bsq-decode -m m.safetensors | bsq-tensor info
            """,
        version: KitVersion.text(tool: "bsq-decode")
    )

    @OptionGroup var options: CodecOptions

    @Flag(help: "Decode codes even when they were made by another model.")
    var force = false

    func run() throws {
        try options.run(flopsPerChunk: \.decodeFlops) { codec, inputs, out in
            codec.force = force
            try codec.decode(inputs, to: out)
        }
    }
}
