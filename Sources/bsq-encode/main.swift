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
            count and the model's name and sha256 in its metadata. Mel of any length is cut into \
            chunks of the model's length, the last padded with the dB floor.

            Examples:
              mel a.wav | bsq-encode -m model.safetensors > a.codes
              mel corpus/ | bsq-encode -m model.safetensors --batch 8 --zstd -o corpus.codes
              bsq-encode -m model.safetensors a.mel | bsq-decode -m model.safetensors | spec-metrics a.mel -
            """,
        version: KitVersion.text(tool: "bsq-encode")
    )

    @OptionGroup var options: CodecOptions

    func run() throws {
        try options.run(flopsPerChunk: \.encodeFlops) { codec, out in
            try codec.encode(FrameInputs(options.files), to: out, diagnostics: ToolProcess.diagnostics())
        }
    }
}
