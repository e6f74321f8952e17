import BSQAudio
import Foundation
import XCTest

/// Where the repository and its committed fixtures are.
public enum Repo {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static func fixture(_ path: String) -> URL { root.appendingPathComponent("Tests/Fixtures/" + path) }
    public static func fixtureData(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: fixture(path))) }
}

/// A fresh temporary folder, removed when the value is released.
public final class TempDir {
    public let url: URL
    public init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("bsq-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// What a tool run gave.
public struct ToolResult {
    public let status: Int32
    public let stdout: [UInt8]
    public let stderr: String
    public let signaled: Bool
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs the built tools as a user would: arguments, bytes on stdin, stdout bytes, stderr text, exit status.
public enum Tool {
    /// The folder holding the built executables (`BSQ_BIN_DIR`, else beside the test bundle).
    public static let binDir: URL = {
        if let d = ProcessInfo.processInfo.environment["BSQ_BIN_DIR"] { return URL(fileURLWithPath: d) }
        var u = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while u.path != "/" && !FileManager.default.fileExists(atPath: u.appendingPathComponent("bsq-tensor").path) {
            u = u.deletingLastPathComponent()
        }
        return u
    }()

    @discardableResult
    public static func run(_ name: String, _ args: [String], stdin: [UInt8] = [], cwd: URL? = nil, env: [String: String] = [:]) throws -> ToolResult {
        try runProgram(binDir.appendingPathComponent(name).path, args, stdin: stdin, cwd: cwd, env: env)
    }

    /// Runs a shell pipeline (bash -o pipefail) with the tools on PATH.
    @discardableResult
    public static func shell(_ script: String, cwd: URL? = nil) throws -> ToolResult {
        let path = binDir.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try runProgram("/bin/bash", ["-o", "pipefail", "-c", script], cwd: cwd, env: ["PATH": path])
    }

    final class Sink: @unchecked Sendable { var data = Data() }

    /// Runs a program with `stdin` bytes, collecting stdout and stderr concurrently.
    public static func runProgram(_ exe: String, _ args: [String], stdin: [UInt8] = [], cwd: URL? = nil, env: [String: String] = [:]) throws -> ToolResult {
        signal(SIGPIPE, SIG_IGN)   // a tool that stops reading early must not kill the test runner
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        let input = Data(stdin)
        let inHandle = inPipe.fileHandleForWriting
        let writer = Thread {
            try? inHandle.write(contentsOf: input)
            try? inHandle.close()
        }
        writer.start()
        let err = Sink()
        let errHandle = errPipe.fileHandleForReading
        let errReader = Thread { err.data = errHandle.readDataToEndOfFile() }
        errReader.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errReader.isFinished || !writer.isFinished { usleep(500) }
        return ToolResult(
            status: p.terminationStatus, stdout: Array(out), stderr: String(decoding: err.data, as: UTF8.self),
            signaled: p.terminationReason == .uncaughtSignal)
    }
}

/// Frames from bytes, for checking tool output.
public func decodeFrames(_ bytes: [UInt8]) throws -> [Frame] {
    let pipe = Pipe()
    let data = Data(bytes)
    let handle = pipe.fileHandleForWriting
    let writer = Thread {
        try? handle.write(contentsOf: data)
        try? handle.close()
    }
    writer.start()
    let reader = FrameReader(ByteSource(fd: pipe.fileHandleForReading.fileDescriptor, name: "-"))
    var out: [Frame] = []
    while let f = try reader.next() { out.append(f) }
    return out
}

/// Encodes frames into one stream.
public func encodeFrames(_ frames: [Frame], zstd: Bool = false) throws -> [UInt8] {
    try frames.flatMap { try FrameWriter.encode($0, zstd: zstd) }
}

/// Asserts that a tool failed with one `tool: …` line on stderr containing `fragment`.
public func assertToolError(_ r: ToolResult, _ tool: String, contains fragment: String, status: Int32? = nil,
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNotEqual(r.status, 0, "expected failure, stderr: \(r.stderr)", file: file, line: line)
    if let status { XCTAssertEqual(r.status, status, file: file, line: line) }
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    XCTAssertEqual(lines.count, 1, "stderr should be one line: \(r.stderr)", file: file, line: line)
    XCTAssertTrue(r.stderr.hasPrefix("\(tool): "), "stderr: \(r.stderr)", file: file, line: line)
    XCTAssertTrue(r.stderr.contains(fragment), "stderr lacks '\(fragment)': \(r.stderr)", file: file, line: line)
}

/// Deterministic synthetic audio for tests.
public enum SyntheticAudio {
    /// A speech-like test signal: a gliding harmonic tone with vibrato, noise
    /// bursts and a silent gap, in [-0.8, 0.8], mono.
    public static func voice(seconds: Double, rate: Int, seed: UInt64 = 1) -> [Float] {
        let n = Int(seconds * Double(rate))
        var rng = SplitMix64(seed: seed)
        var out = [Float](repeating: 0, count: n)
        var phase = 0.0
        for i in 0..<n {
            let t = Double(i) / Double(rate)
            let f0 = 120 + 80 * sin(2 * Double.pi * 0.7 * t) + 4 * sin(2 * Double.pi * 5.5 * t)
            phase += 2 * Double.pi * f0 / Double(rate)
            var v = 0.0
            var k = 1.0
            while k * f0 < Double(rate) / 2 && k <= 30 { v += sin(k * phase) / k; k += 1 }
            let noise = Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1
            let burst = (t.truncatingRemainder(dividingBy: 0.9) > 0.7) ? 0.5 * noise : 0.01 * noise
            let gap = (t.truncatingRemainder(dividingBy: 2.3) > 2.0) ? 0.0 : 1.0
            out[i] = Float(0.8 * gap * (0.35 * v + burst) / 1.5)
        }
        return out
    }

    /// Writes `channels` copies-with-a-twist of `mono` (channel c scaled by 1 − 0.2c).
    public static func write(_ mono: [Float], rate: Int, channels: Int = 1, format: SoundFile.Format = .wav16, to path: String) throws {
        var inter = [Float](repeating: 0, count: mono.count * channels)
        for i in 0..<mono.count { for c in 0..<channels { inter[i * channels + c] = mono[i] * (1 - 0.2 * Float(c)) } }
        try SoundFile.write(inter, channels: channels, sampleRate: rate, format: format, to: path)
    }
}

extension Repo {
    /// The bytes of any file.
    public static func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
}

extension SafeTensors {
    /// A tensor of a fixture file as floats (widened), or an error naming it.
    public func floats(named name: String) throws -> [Float] {
        guard let e = entry(name) else { throw BSQError("fixture lacks \(name)") }
        var out = [Float](repeating: 0, count: e.count)
        try out.withUnsafeMutableBufferPointer { try floats(e, into: $0.baseAddress!) }
        return out
    }
}

/// Asserts that `got` matches `want` within `tolerance` of want's largest magnitude.
public func assertClose(_ got: [Float], _ want: [Float], _ what: String, tolerance: Double = 1e-4,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, what, file: file, line: line)
    let top = max(Double(want.map(abs).max() ?? 0), 1e-6)
    let err = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
    XCTAssertLessThanOrEqual(err / top, tolerance, "\(what): max |Δ| \(err) against max \(top)", file: file, line: line)
}
