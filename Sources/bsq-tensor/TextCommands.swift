import ArgumentParser
import BSQAudio
import BSQAudioCLI

extension TokenText.Format: ExpressibleByArgument {}

struct ToText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "to-text",
        abstract: "Write the tokens of codes frames as text, one line per frame.",
        discussion: """
            tsv: KEY<TAB>t0 t1 t2 …, the tokens time patch by time patch, frequency patches from the lowest \
            mel bands up. jsonl: one JSON object per frame with key, the metadata (frames, \
            covered_time_patches, bits, model, mel…), shape [time_patches, freq_patches] and tokens; \
            from-text makes the same frame back. A frame without a key is named frame-NNNNNN by its index.
            """)

    @Option(help: "tsv (KEY<TAB>tokens, as a Kaldi text archive) or jsonl (one JSON object per frame).")
    var format = TokenText.Format.tsv

    @Flag(help: "Write only the covered time patches (those holding mel frames), as bsq-encode --trim keeps.")
    var covered = false

    @Argument(help: "Frame streams to read (default: standard input).", completion: .file())
    var files: [String] = []

    func validate() throws { try StandardInput.checkReadOnce(files) }

    func run() throws {
        var out = TextOutput()
        try FrameInputs(files).forEach { frame, index in
            try out.line(try TokenText.line(frame, index: index, format: format, coveredOnly: covered))
        }
        try out.flush()
    }
}

struct FromText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-text",
        abstract: "Turn lines of tokens (to-text's tsv or jsonl) into codes frames on standard output.",
        discussion: """
            A value given as an option wins over the line's (jsonl), which wins over the --model \
            checkpoint's configuration and the defaults. Without a model, the codes carry no model \
            metadata (bsq-decode then decodes them with its model). Blank lines are skipped; a tsv \
            line without a tab is read as Kaldi's KEY t0 t1 …. Nothing is written unless every line converts.
            """)

    @Option(help: "tsv (KEY<TAB>tokens) or jsonl (to-text's JSON objects).")
    var format = TokenText.Format.tsv

    @Option(help: ArgumentHelp("Bits per token (default: the line's, the model's, or 18).", valueName: "n"))
    var bits: Int?

    @Option(help: ArgumentHelp("Frequency patches per time patch (default: the line's shape, the model's, or 8).", valueName: "n"))
    var freqPatches: Int?

    @Option(name: .shortAndLong,
            help: ArgumentHelp("The checkpoint the tokens are for, or default for the kit's model: its name, sha256 and configuration.", valueName: "file"),
            completion: .file())
    var model: String?

    @Option(help: ArgumentHelp("The model name to record (with --model-sha256).", valueName: "name"))
    var modelName: String?

    @Option(name: .customLong("model-sha256"), help: ArgumentHelp("The SHA-256 of the model's file to record (with --model-name).", valueName: "hex"))
    var modelSHA256: String?

    @Option(help: ArgumentHelp("Mel frames the tokens stand for (default: the line's, or time patches × 16).", valueName: "n"))
    var frames: Int?

    @Flag(help: "Compress payloads with zstd.")
    var zstd = false

    @Argument(help: "Text files to read (default: standard input).", completion: .file())
    var files: [String] = []

    func validate() throws {
        try StandardInput.checkReadOnce(files)
        if let bits, !(1...64).contains(bits) { throw ValidationError("--bits must be from 1 to 64 (got \(bits))") }
        if let freqPatches, freqPatches <= 0 { throw ValidationError("--freq-patches must be > 0 (got \(freqPatches))") }
        if let frames, frames <= 0 { throw ValidationError("--frames must be > 0 (got \(frames))") }
        if model != nil && (modelName != nil || modelSHA256 != nil) {
            throw ValidationError("--model reads the name and sha256 from the checkpoint: give it or --model-name and --model-sha256")
        }
        if (modelName == nil) != (modelSHA256 == nil) { throw ValidationError("--model-name and --model-sha256 go together") }
        if let modelName, modelName.isEmpty { throw ValidationError("--model-name must not be empty") }
        if let modelSHA256, !TokenTextReader.isSHA256(modelSHA256) {
            throw ValidationError("--model-sha256 must be 64 hexadecimal digits (got \(modelSHA256.prefix(70)))")
        }
    }

    func run() throws {
        try StandardOutput.checkNotTerminal()
        var reader = TokenTextReader()
        reader.format = format
        reader.bits = bits
        reader.freqPatches = freqPatches
        reader.frames = frames
        if let model {
            let isDefault = model == "default"
            try reader.use(try Checkpoint(path: isDefault ? try DefaultModel.path() : model), isDefault: isDefault)
        } else if let modelName, let modelSHA256 {
            reader.model = CodesFrame.Model(name: modelName, sha256: modelSHA256.lowercased())
        }
        // every line is read and checked before anything is written: all or nothing
        let frames = try reader.frames(files)
        let out = StandardOutput.shared
        out.zstd = zstd
        for f in frames { try out.write(f) }
    }
}
