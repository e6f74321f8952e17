import ArgumentParser
import Foundation
import BSQAudio
import BSQAudioCLI
import BSQONNX

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the weights a model runs with (the EMA copy when present) without the training state.",
        discussion: """
            The output holds the tensors of docs/model.md only (of docs/vocoder.md for a vocoder \
            checkpoint of bsq-train vocoder), as F32 or, with --f16, as F16 (half the size; readers \
            widen them), with the configuration in the metadata. Written atomically.

            With --onnx, -o names a folder that receives encoder.onnx (mel float32 [batch, frames, \
            n_mels] in dB -> codes int64 [batch, time_patches, freq_patches]) and decoder.onnx (codes \
            -> mel), ONNX opset 17 with a dynamic batch, one chunk per batch row; for a vocoder, \
            vocoder.onnx (mel [batch, frames, n_mels] -> audio [batch, frames * hop_length]) (docs/onnx.md).
            """)

    @Argument(help: ArgumentHelp("Checkpoint to read (e.g. RUN/model.safetensors).", valueName: "checkpoint"), completion: .file())
    var checkpoint: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Model file to write.", valueName: "file"), completion: .file())
    var output: String

    @Flag(name: .customLong("f16"), help: "Store the tensors as F16.")
    var half = false

    @Option(help: "Name recorded in the config (default: the checkpoint's).")
    var name: String?

    @Flag(help: "Write the encoder and the decoder as ONNX graphs into the folder -o.")
    var onnx = false

    func validate() throws {
        if onnx && half { throw ValidationError("--onnx writes float32 graphs; --f16 is for safetensors") }
    }

    func run() throws {
        if onnx {
            if VocoderCheckpoint.isVocoder(path: checkpoint) {
                let ck = try VocoderCheckpoint(path: checkpoint)
                try ONNXVocoderExport(name.map { ck.renamed($0) } ?? ck).write(to: output)
                return
            }
            let ck = try Checkpoint(path: checkpoint)
            try ONNXExport(name.map { ck.renamed($0) } ?? ck).write(to: output)
            return
        }
        if VocoderCheckpoint.isVocoder(path: checkpoint) {
            let ck = try VocoderCheckpoint(path: checkpoint)
            try (name.map { ck.renamed($0) } ?? ck).write(to: output, half: half)
            return
        }
        let ck = try Checkpoint(path: checkpoint)
        try (name.map { ck.renamed($0) } ?? ck).write(to: output, half: half)
    }
}
