import ArgumentParser
import BSQAudio
import BSQAudioCLI

@main
struct SpecMetricsTool: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec-metrics",
        abstract: "Compare two streams of mel frames (and report on a stream of codes) per utterance and overall.",
        discussion: """
            Frames of REF and HYP are matched by key (or by position with --by-order) and must \
            have the same dims. For each pair, and pooled over all of them: MSE (dB²), MAE, RMSE, \
            PSNR over --range, log-spectral distance (dB), spectral convergence and SNR of the \
            power mel 10^(dB/10). With --codes, the codes frames (matched the same way) add \
            tokens/s, bits/s, codebook usage, entropy per token and per bit, and perplexity. \
            Either REF or HYP may be - for standard input. man spec-metrics gives the formulas.

            Examples:
              spec-metrics ref.mel hyp.mel
              mel corpus/ | specaug --seed 7 | spec-metrics --json clean.mel -
              spec-metrics --codes codes.bsqt --csv dev.mel dev-decoded.mel > dev.csv
            """,
        version: KitVersion.text(tool: "spec-metrics")
    )

    @Argument(help: "The reference mel frames (- for standard input).", completion: .file())
    var ref: String
    @Argument(help: "The mel frames to compare with it (- for standard input).", completion: .file())
    var hyp: String

    @Option(help: ArgumentHelp("Also report on these codes frames (kind codes, matched like HYP).", valueName: "file"), completion: .file())
    var codes: String?
    @Flag(help: "Match frames by their position in the streams instead of their key.")
    var byOrder = false
    @Option(help: ArgumentHelp("The range of PSNR in dB (80 is that of mel's default --top-db).", valueName: "db"))
    var range = 80.0
    @Flag(help: "Print JSON Lines: one object per utterance, then the overall one.")
    var json = false
    @Flag(help: "Print CSV with a header row; the last row is the overall one.")
    var csv = false

    func validate() throws {
        if !(range > 0) || !range.isFinite { throw ValidationError("--range must be > 0 (got \(range))") }
        if json && csv { throw ValidationError("--json and --csv cannot be used together") }
        let stdin = [ref, hyp, codes].filter { $0 == "-" }.count
        if stdin > 1 { throw ValidationError("only one of REF, HYP and --codes can be - (standard input)") }
    }

    func run() throws {
        let report = try SpecComparison(ref: ref, hyp: hyp, codes: codes, byOrder: byOrder, range: range).run()
        let text = json ? report.jsonLines() : csv ? report.csv() : report.table()
        try StandardOutput.shared.writeRaw(Array(text.utf8))
    }
}
