import ArgumentParser
import BSQAudio
import BSQAudioCLI

@main
struct BSQPlot: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "bsq-plot",
        abstract: "Draw training curves and mel spectrograms as PNG images.",
        discussion: """
            The images are written atomically to the -o file. No library is needed to view them: \
            the PNG encoder and the font are built in.

            Examples:
              bsq-plot curves train.jsonl -o curves.png
              bsq-plot curves --keys loss,l1 --keys lr --log-y a.jsonl b.jsonl -o ab.png
              mel a.wav | bsq-plot mel - -o a.png
              bsq-plot mel a.mel a-decoded.mel --label original --label decoded -o cmp.png
            """,
        version: KitVersion.text(tool: "bsq-plot"),
        subcommands: [Curves.self, Mel.self])
}

struct Curves: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plot training logs (JSON Lines) against the step, one panel per quantity.",
        discussion: """
            Each LOG holds one JSON object per line with a "step" number, as bsq-train writes: \
            {"step":10,"loss":0.31,"l1":0.2,"lr":0.0003,...}; lines of "kind":"val" hold validation \
            metrics (their keys get a val_ prefix if they lack one). By default the loss terms share \
            a panel, and so do the code entropies and the validation metrics; lr, grad_norm, \
            steps_per_s and every other number get a panel each. A malformed line stops the run \
            with an error that names it.
            """)

    @Argument(help: ArgumentHelp("Training logs to read (- : standard input).", valueName: "log"), completion: .file())
    var logs: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("PNG image to write.", valueName: "file"), completion: .file())
    var output: String

    @Option(help: ArgumentHelp("A panel of these comma-separated keys (repeatable: one panel each).", valueName: "k1,k2,..."))
    var keys: [String] = []

    @Flag(help: "Logarithmic y axes (values <= 0 are left out).")
    var logY = false

    @Option(help: ArgumentHelp("Draw an exponential moving average with this weight on the past (0 to < 1) over the raw values (lr is never smoothed).", valueName: "w"))
    var smooth = 0.0

    @Option(help: "Title above the panels.")
    var title: String?

    func validate() throws {
        try StandardInput.checkReadOnce(logs)
        if !(smooth >= 0 && smooth < 1) { throw ValidationError("--smooth must be from 0 to less than 1 (got \(smooth))") }
        if keys.contains(where: { $0.split(separator: ",").isEmpty }) { throw ValidationError("--keys must name keys (got an empty list)") }
    }

    func run() throws {
        let parsed = try logs.map { try TrainingLog(path: $0) }
        let plot = TrainingLog.plot(parsed, labels: TrainingLog.labels(logs), panels: try TrainingLog.panels(parsed, keys: keys),
                                    logY: logY, smooth: smooth, title: title)
        try plot.render().write(to: output)
    }
}

struct Mel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw mel frames as images, one panel per stream, on one colour scale.",
        discussion: """
            Draws one frame of each STREAM (the first, or the one chosen by --frame or --key) \
            above the next, with time in seconds (from mel.hop_length and mel.sample_rate) to the \
            right and mel bins upwards, so an original and its reconstruction line up. Values are \
            coloured from --db-min (bottom of the map) to --db-max. Any frame chosen that is not a \
            mel frame stops the run.
            """)

    @Argument(help: ArgumentHelp("Mel frame streams (- : standard input).", valueName: "stream"), completion: .file())
    var streams: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("PNG image to write.", valueName: "file"), completion: .file())
    var output: String

    @Option(help: ArgumentHelp("Draw the frame at this index of each stream (from 0).", valueName: "n"))
    var frame: Int?

    @Option(help: ArgumentHelp("Draw the frame with this key from each stream.", valueName: "key"))
    var key: String?

    @Option(help: ArgumentHelp("Title of a panel, in the order of the streams (repeatable; default: stream: key).", valueName: "text"))
    var label: [String] = []

    @Option(help: "Title above the panels.")
    var title: String?

    @Option(help: ArgumentHelp("dB at the bottom of the colour map (a negative value as --db-min=-80).", valueName: "db"))
    var dbMin = -80.0

    @Option(help: ArgumentHelp("dB at the top of the colour map.", valueName: "db"))
    var dbMax = 0.0

    @Option(help: ArgumentHelp("Colour map: viridis or magma.", valueName: "name"), completion: .list(["viridis", "magma"]))
    var colormap = "viridis"

    func validate() throws {
        try StandardInput.checkReadOnce(streams)
        if frame != nil && key != nil { throw ValidationError("--frame and --key cannot be used together") }
        if let frame, frame < 0 { throw ValidationError("--frame must be >= 0 (got \(frame))") }
        if label.count > streams.count {
            throw ValidationError("--label was given \(label.count) times for \(streams.count) stream\(streams.count == 1 ? "" : "s")")
        }
        if !(dbMax > dbMin) { throw ValidationError("--db-max must be above --db-min (got \(dbMin) to \(dbMax))") }
        if Colormap.named(colormap) == nil { throw ValidationError("--colormap must be viridis or magma (got \(colormap))") }
    }

    func run() throws {
        let panels = try streams.enumerated().map { i, path in
            try SpectrogramPlot.Panel.read(path: path, index: frame ?? 0, key: key, title: i < label.count ? label[i] : nil)
        }
        var plot = SpectrogramPlot(title: title, panels: panels)
        plot.dbMin = dbMin
        plot.dbMax = dbMax
        plot.colormap = Colormap.named(colormap)!
        try plot.render().write(to: output)
    }
}
