import ArgumentParser
import BSQAudio
import BSQAudioCLI

BSQTensor.main()   // main.swift is the entry point: the subcommands live in files beside it

struct BSQTensor: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "bsq-tensor",
        abstract: "Inspect, select, recompress and convert streams of BSQT frames.",
        discussion: """
            Every bsq-audio tool reads and writes BSQT frames (man 5 bsqt). A FILE of `-`, or no \
            FILE, is standard input.

            Examples:
              mel corpus/ | bsq-tensor info
              bsq-tensor cat --kind codes --zstd a.bsqt b.bsqt > codes.bsqt
              bsq-tensor to-npy -o out/ codes.bsqt
              bsq-tensor from-npy x.npy --kind mel --meta '{"key":"x"}' | bsq-encode
              bsq-tensor to-text --covered codes.bsqt > tokens.tsv
              bsq-tensor from-text -m default generated.tsv | bsq-decode > generated.mel
            """,
        version: KitVersion.text(tool: "bsq-tensor"),
        subcommands: [Info.self, Cat.self, ToNpy.self, FromNpy.self, ToText.self, FromText.self]
    )
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one line per frame: key, kind, dtype, dims, stored bytes, compression.")

    @Flag(help: "Print one JSON object per frame (JSON Lines), with the full metadata.")
    var json = false

    @Argument(help: "Frame streams to read.", completion: .file())
    var files: [String] = []

    func run() throws {
        var out = TextOutput()
        try FrameInputs(files).forEachStored { f, i in
            if f.zstd { _ = try f.decode() }          // the CRC covers the stored bytes; this checks what they decompress to
            try out.line(json ? FrameSummary(f, index: i).json() : FrameSummary(f, index: i).text())
        }
        try out.flush()
    }
}

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Concatenate frame streams to standard output, optionally selecting and recompressing.")

    @Option(name: .customLong("key"), help: "Keep only frames with this key (repeatable).")
    var keys: [String] = []

    @Option(help: "Keep only frames of this kind (mel, codes, audio, tensor).", completion: .list(["mel", "codes", "audio", "tensor"]))
    var kind: String?

    @Flag(inversion: .prefixedNo, help: "Compress payloads with zstd, or store them plain (default: as they are).")
    var zstd: Bool?

    @Argument(help: "Frame streams to read.", completion: .file())
    var files: [String] = []

    func run() throws {
        try StandardOutput.checkNotTerminal()
        let out = StandardOutput.shared
        out.zstd = zstd ?? false
        var selection = FrameSelection()
        selection.keys = keys
        selection.kind = kind
        selection.zstd = zstd
        try selection.copy(FrameInputs(files), to: out)
    }
}

struct ToNpy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "to-npy",
        abstract: "Write each frame as KEY.npy (and its metadata as KEY.json) under a folder.",
        discussion: "A frame without a key is named frame-NNNNNN by its index. Nothing is written unless the whole stream reads cleanly.")

    @Option(name: .shortAndLong, help: "Output folder (created if missing).", completion: .directory)
    var output: String

    @Argument(help: "Frame streams to read.", completion: .file())
    var files: [String] = []

    func run() throws {
        try NpyExport(folder: output).run(FrameInputs(files))
    }
}

struct FromNpy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-npy",
        abstract: "Turn .npy files into frames on standard output.",
        discussion: "Without --meta, the key is the file name without .npy; --key sets it in any case. Big-endian and Fortran-order arrays are converted. Nothing is written unless every file converts.")

    @Option(help: "The frame kind to record (mel, codes, audio, tensor).", completion: .list(["mel", "codes", "audio", "tensor"]))
    var kind: String?

    @Option(help: "Metadata: a JSON object, or @FILE to read one (such as a .json that to-npy wrote).")
    var meta: String?

    @Option(help: "The key to record (only with a single file).")
    var key: String?

    @Flag(help: "Compress payloads with zstd.")
    var zstd = false

    @Argument(help: ".npy files to convert (- for standard input).", completion: .file(extensions: ["npy"]))
    var files: [String]

    func validate() throws {
        if key != nil && files.count > 1 { throw ValidationError("--key needs a single file (got \(files.count))") }
        if files.isEmpty { throw ValidationError("give at least one .npy file") }
    }

    func run() throws {
        try StandardOutput.checkNotTerminal()
        let base = try meta.map(MetadataArgument.parse)
        let out = StandardOutput.shared
        out.zstd = zstd
        // every file is read and checked before anything is written: all or nothing
        let frames = try files.map { try NpyExport.frame(fromNpy: $0, meta: base, kind: kind, key: key) }
        for f in frames { try out.write(f) }
    }
}
