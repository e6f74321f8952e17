import ArgumentParser
import BSQAudio
import BSQAudioCLI
import Foundation

@main
struct WavMetrics: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "wav-metrics",
        abstract: "Compare audio with a reference: SI-SNR, STOI, extended STOI and mel-cepstral distance.",
        discussion: """
            REF and HYP are two audio files, or two folders whose audio files are matched by key \
            (the path relative to the folder without its extension, as mel and mel2wav -o DIR name \
            them). Files are averaged to mono; HYP is resampled to the rate of REF if it differs, \
            and both are cut to the shorter length. For each pair, and averaged over all of them: \
            SI-SNR (dB), STOI and extended STOI (as pystoi computes them), mcd, the mel-cepstral \
            distance as the Python package mel-cepstral-distance 0.0.4 computes it by default \
            (20 mel bands, cepstra 2 to 16, frames aligned by DTW, at the lower of the two rates), \
            and mcd_mel80, the kit's earlier 80-band figure (dB). man wav-metrics gives the definitions.

            Examples:
              mel a.wav | mel2wav -o a.rec.wav && wav-metrics a.wav a.rec.wav
              wav-metrics --json LibriSpeech/dev-clean/ rec/
              wav-metrics --csv -j 4 clean/ enhanced/ > scores.csv
            """,
        version: KitVersion.text(tool: "wav-metrics")
    )

    @Argument(help: "The reference audio file or folder.", completion: .file())
    var ref: String
    @Argument(help: "The audio file or folder to compare with it.", completion: .file())
    var hyp: String

    @Flag(help: "Print JSON Lines: one object per pair, then the overall one.")
    var json = false
    @Flag(help: "Print CSV with a header row; the last row is the overall one.")
    var csv = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Pairs compared in parallel (default: the number of cores).", valueName: "n"))
    var jobs: Int?
    @Flag(name: .shortAndLong, help: "Print nothing on stderr but errors (no progress on a terminal).")
    var quiet = false

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv cannot be used together") }
        if let jobs, jobs <= 0 { throw ValidationError("--jobs must be > 0 (got \(jobs))") }
        if ref == "-" || hyp == "-" { throw ValidationError("REF and HYP must be files or folders (standard input is not read)") }
    }

    func run() throws {
        var comparison = WaveComparison(ref: ref, hyp: hyp, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                                        diagnostics: ToolProcess.diagnostics(quiet: quiet))
        comparison.progress = ProgressBar(counting: "pairs", enabled: !quiet)
        let (rows, total) = try comparison.run()
        if !rows.isEmpty {
            let report = WaveformReport(rows: rows)
            try StandardOutput.shared.writeRaw(Array((json ? report.jsonLines() : csv ? report.csv() : report.table()).utf8))
        }
        try ToolProcess.finishBatch(processed: rows.count, of: total, quiet: quiet)
    }
}
