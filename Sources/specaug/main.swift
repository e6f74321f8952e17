import ArgumentParser
import BSQAudio
import BSQAudioCLI
import Foundation

@main
struct SpecAug: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "specaug",
        abstract: "Mask (and optionally time-warp) mel frames, SpecAugment-style, in a pipe.",
        discussion: """
            Reads BSQT mel frames from the FILEs (standard input by default) and writes each one \
            with --freq-masks bands of mel bins and --time-masks runs of frames set to the fill \
            value, after an optional time warp (Park et al. 2019). A mask's width is drawn from \
            0 to its --*-width (a fraction of the axis such as 0.1, or a count such as 27), its \
            start uniformly where it fits. The masks depend only on --seed and the frame's key, \
            never on its position in the stream, and are recorded in the frame's metadata under \
            "specaug". Any frame that is not kind "mel", f32 [frames, n_mels] stops the run.

            Examples:
              mel corpus/ | specaug --seed 7 | bsq-tensor info
              specaug --time-warp 80 --freq-width 27 --time-width 0.05 -o aug.mel train.mel
              specaug --fill mean --time-masks 10 --freq-masks 0 < a.mel > a-masked.mel
            """,
        version: KitVersion.text(tool: "specaug")
    )

    @Argument(help: "Frame streams to read (- or none: standard input).", completion: .file())
    var files: [String] = []

    @Option(help: "Seed of the masks (a frame's masks depend only on the seed and its key).")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Number of time masks.", valueName: "n"))
    var timeMasks = 2
    @Option(help: ArgumentHelp("Number of frequency masks.", valueName: "n"))
    var freqMasks = 2
    @Option(help: ArgumentHelp("Largest width of a time mask: a fraction of the frames (such as 0.1) or a count (such as 100).", valueName: "w"))
    var timeWidth = "0.1"
    @Option(help: ArgumentHelp("Largest width of a frequency mask: a fraction of the mel bins (such as 0.1) or a count (such as 27).", valueName: "w"))
    var freqWidth = "0.1"
    @Option(help: ArgumentHelp("Value of masked bins: floor (max − top_db, or the minimum), min, mean, or a number of dB (--fill=-60).", valueName: "floor|min|mean|db"))
    var fill = "floor"
    @Option(help: ArgumentHelp("Time warp parameter W in frames (0: off).", valueName: "w"))
    var timeWarp = 0

    @Option(name: .shortAndLong, help: ArgumentHelp("Write frames to this file (atomically) instead of standard output.", valueName: "file"), completion: .file())
    var output: String?
    @Flag(help: "Compress payloads with zstd.")
    var zstd = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Frames processed in parallel (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    func augment() throws -> SpecAugment {
        guard let tw = SpecAugment.Width(timeWidth) else {
            throw ValidationError("--time-width must be a fraction from 0 to 1 (like 0.1) or a count (like 100) (got \(timeWidth))")
        }
        guard let fw = SpecAugment.Width(freqWidth) else {
            throw ValidationError("--freq-width must be a fraction from 0 to 1 (like 0.1) or a count (like 27) (got \(freqWidth))")
        }
        guard let fillValue = SpecAugment.Fill(fill) else {
            throw ValidationError("--fill must be floor, min, mean or a number (got \(fill))")
        }
        return SpecAugment(timeMasks: timeMasks, freqMasks: freqMasks, timeWidth: tw, freqWidth: fw,
                           fill: fillValue, timeWarp: timeWarp)
    }

    func validate() throws {
        if timeMasks < 0 { throw ValidationError("--time-masks must be >= 0 (got \(timeMasks))") }
        if freqMasks < 0 { throw ValidationError("--freq-masks must be >= 0 (got \(freqMasks))") }
        if timeWarp < 0 { throw ValidationError("--time-warp must be >= 0 (got \(timeWarp))") }
        if let jobs, jobs <= 0 { throw ValidationError("--jobs must be > 0 (got \(jobs))") }
        _ = try augment()
    }

    func run() throws {
        let augment = try augment(), seed = self.seed
        let map = FrameMap(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        let target = OutputTarget(output)
        try target.check(inputs: files)
        try target.withFrameWriter { writer in
            try map.run(FrameInputs(files), to: writer, zstd: zstd) { try augment.apply(to: $0, seed: seed) }
        }
    }
}
