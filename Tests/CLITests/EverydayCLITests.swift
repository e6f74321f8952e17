import BSQAudio
import Foundation
import TestSupport
import XCTest

/// What a new user hits in the first hour (issue "Everyday use"): each test
/// would have caught one of the things that got in the way.
final class EverydayCLITests: XCTestCase {
    /// Item 8: an operand folder without audio is one failed input of the batch, not the end of it.
    func testAnEmptyFolderIsOneFailedInputOfTheBatch() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("onlytxt"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.path("onlytxt/readme.txt"), contents: Data("hi".utf8))
        let r = try Tool.run("mel", ["-o", dir.path("out.mel"), dir.path("onlytxt"), Repo.fixture("mel/short16k_800.wav").path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("mel: \(dir.path("onlytxt")): no audio files found in this folder"), r.stderr)
        XCTAssertTrue(r.stderr.contains("mel: processed 1 of 2"), r.stderr)
        XCTAssertEqual(try decodeFrames(try Repo.read(dir.path("out.mel"))).map { $0.meta["key"]?.string }, ["short16k_800"])
    }

    /// Item 2: a file's key is one function of the file and its root, however its path is written.
    func testKeysDoNotDependOnHowPathsAreWritten() throws {
        let dir = TempDir(), fm = FileManager.default
        let names = ["101/11/101-11-0000.wav", "101/11/101-11-0001.wav", "202/22/202-22-0000.wav"]
        for n in names {
            try fm.createDirectory(atPath: dir.path("Libri/" + n).components(separatedBy: "/").dropLast().joined(separator: "/"),
                                   withIntermediateDirectories: true)
            try fm.copyItem(atPath: Repo.fixture("mel/short16k_800.wav").path, toPath: dir.path("Libri/" + n))
        }
        try fm.createDirectory(atPath: dir.path("lists"), withIntermediateDirectories: true)
        let libri = dir.path("Libri")
        func keys(_ args: [String]) throws -> [String] {
            let r = try Tool.run("mel", ["-q"] + args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            return try decodeFrames(r.stdout).map { $0.meta["key"]?.string ?? "" }
        }
        func list(_ name: String, _ lines: [String]) throws -> String {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir.path(name)))
            return dir.path(name)
        }
        let want = ["101/11/101-11-0000", "101/11/101-11-0001", "202/22/202-22-0000"]
        XCTAssertEqual(try keys([libri + "/"]), want)
        XCTAssertEqual(try keys([libri + "//"]), want)
        XCTAssertEqual(try keys(["--list", try list("Libri/list.txt", ["./" + names[0], "101//11/101-11-0001.wav", "202/22/../22/202-22-0000.wav"])]), want)
        let absolute = try list("lists/abs.txt", names.map { libri + "/" + $0 })
        XCTAssertEqual(try keys(["--list", absolute, "--root", libri]), want)
        XCTAssertEqual(try keys(["--list", absolute, "--root", libri + "/./"]), want)
        XCTAssertEqual(try keys(["--list", absolute]), ["101-11-0000", "101-11-0001", "202-22-0000"], "outside the root: the file name")
        XCTAssertEqual(try keys(["--list", try list("lists/rel.txt", names), "--root", libri]), want)

        // a --key that matches nothing says so
        let stream = dir.path("all.mel")
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", stream, libri]).status, 0)
        let one = try Tool.run("bsq-tensor", ["cat", "--key", want[1], stream])
        XCTAssertEqual(try decodeFrames(one.stdout).map { $0.meta["key"]?.string }, [want[1]])
        let none = try Tool.run("bsq-tensor", ["cat", "--key", want[1], "--key", "101-11-0000", stream])
        XCTAssertEqual(none.status, 1)
        XCTAssertEqual(none.stderr, "bsq-tensor: no frame has the key '101-11-0000' (3 frames read)\n")
    }

    /// Item 9: no binary to a terminal, and no silent wait on one (run under a pseudo-terminal with script(1)).
    func testTerminalsGetAMessageInsteadOfBinaryOrASilentWait() throws {
        let clip = Repo.fixture("mel/short16k_800.wav").path
        let bin = Tool.binDir.path
        func pty(_ command: String) throws -> ToolResult {
            try Tool.runProgram("/usr/bin/script", ["-qec", command, "/dev/null"])
        }
        let out = try pty("\(bin)/mel \(clip)")
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stdoutText.contains("mel: standard output is a terminal: redirect it to a file or a pipe, or give -o"), out.stdoutText)
        for tool in ["bsq-encode", "bsq-decode", "specaug", "mel2wav", "bsq-tensor cat"] {
            let r = try pty("\(bin)/\(tool) > /dev/null")
            XCTAssertEqual(r.status, 1, tool)
            XCTAssertTrue(r.stdoutText.contains("standard input is a terminal; this tool reads BSQT frames"), "\(tool): \(r.stdoutText)")
        }
        let mel = try pty("\(bin)/mel - > /dev/null")
        XCTAssertEqual(mel.status, 1)
        XCTAssertTrue(mel.stdoutText.contains("standard input is a terminal; give audio files"), mel.stdoutText)
    }

    /// Item 10: digital silence is said to be, and stays silent through mel2wav (with either vocoder).
    func testDigitalSilenceStaysSilent() throws {
        let dir = TempDir()
        try SoundFile.write([Float](repeating: 0, count: 48000), channels: 1, sampleRate: 16000, format: .wav16, to: dir.path("zeros.wav"))
        let r = try Tool.run("mel", ["-o", dir.path("z.mel"), dir.path("zeros.wav")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("mel: warning: \(dir.path("zeros.wav")): digital silence"), r.stderr)
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("q.mel"), dir.path("zeros.wav")]).stderr, "", "-q: errors only")
        let frame = try decodeFrames(try Repo.read(dir.path("z.mel")))[0]
        XCTAssertEqual(frame.meta["silent"], true)
        for vocoder in ["griffin-lim", "default"] {
            let w = try Tool.run("mel2wav", ["--vocoder", vocoder, "-o", dir.path("\(vocoder).wav"), dir.path("z.mel")])
            XCTAssertEqual(w.status, 0, w.stderr)
            let file = try SoundFile(path: dir.path("\(vocoder).wav"))
            var samples = [Float](repeating: 1, count: file.announcedFrames)
            XCTAssertEqual(try samples.withUnsafeMutableBufferPointer { try file.read(into: $0.baseAddress!, frames: $0.count) }, 48000, "(301 frames − 1) · 160")
            XCTAssertTrue(samples.allSatisfy { $0 == 0 }, "\(vocoder): silent")
        }
    }

    /// Item 5: outputs are checked before any input is read; no tool writes over its own input.
    func testOutputsAreCheckedBeforeTheWork() throws {
        let dir = TempDir()
        let clip = Repo.fixture("mel/short16k_800.wav").path
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("a.mel"), clip]).status, 0)
        let cases: [(String, [String], [UInt8], String)] = [
            ("mel2wav", ["-o", dir.path("nodir/x.wav"), dir.path("a.mel")], [], "cannot create output \(dir.path("nodir/x.wav")): no such folder \(dir.path("nodir"))"),
            ("mel", ["-o", dir.path("nodir/x.mel"), "-"], [UInt8](repeating: 0, count: 64), "cannot create output \(dir.path("nodir/x.mel")): no such folder"),
            ("bsq-encode", ["-o", dir.path("nodir/x.codes"), dir.path("a.mel")], [], "no such folder"),
            ("specaug", ["-o", dir.path("a.mel"), dir.path("a.mel")], [], "refusing to write output \(dir.path("a.mel")) over the input \(dir.path("a.mel"))"),
            ("mel", ["-o", dir.url.path, clip], [], "it is a folder, and this tool writes one stream"),
        ]
        let before = try Repo.read(dir.path("a.mel"))
        for (tool, args, stdin, message) in cases {
            let r = try Tool.run(tool, args, stdin: stdin)
            XCTAssertEqual(r.status, 1, "\(tool) \(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("\(tool): ") && r.stderr.contains(message), "\(tool) \(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        XCTAssertEqual(try Repo.read(dir.path("a.mel")), before, "the input is untouched")
    }

    /// Item 6: messages that point at what to do.
    func testMessagesSayWhatToDo() throws {
        let wav = try Repo.fixtureData("mel/short16k_800.wav")
        for tool in ["bsq-encode", "bsq-decode", "mel2wav", "specaug"] {
            let r = try Tool.run(tool, ["-"], stdin: wav)
            XCTAssertTrue(r.stderr.contains("an audio file, not BSQT frames: make frames of it with mel first"), "\(tool): \(r.stderr)")
        }
        let format = try Tool.run("mel2wav", ["--format", "wave", "-"])
        XCTAssertTrue(format.stderr.contains("Please provide one of the following: wav, wav-float, flac, ogg, opus, mp3"), format.stderr)
        let clip = Repo.fixture("mel/short16k_800.wav").path
        let long = try Tool.run("mel", ["-q", "--sample-rate", "22050", "--hop-length", "256", clip])
        let short = try Tool.run("mel", ["-q", "--sr", "22050", "--hop", "256", clip])
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertEqual(short.stdout, long.stdout, "--sr and --hop are --sample-rate and --hop-length")
        // -o without a trailing / names one file: for several frames, say how to get a new folder
        let dir = TempDir()
        let two = try Tool.run("mel", ["-q", clip, Repo.fixture("mel/short16k_300.wav").path]).stdout
        let newdir = dir.path("newdir")
        let r = try Tool.run("mel2wav", ["-o", newdir, "-"], stdin: two)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("mel2wav: the input holds more than one frame, and -o \(newdir) names one file: give -o \(newdir)/ (with the /)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: newdir))
        XCTAssertEqual(try Tool.run("mel2wav", ["-q", "-o", newdir + "/", "-"], stdin: two).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: newdir).sorted(), ["short16k_300.wav", "short16k_800.wav"])
    }

    /// Item 4: long work shows its progress on a terminal, and -q silences it (run under script(1)'s pseudo-terminal).
    func testStreamToolsShowProgressOnATerminal() throws {
        let dir = TempDir()
        let clip = Repo.fixture("mel/short16k_800.wav").path, bin = Tool.binDir.path
        XCTAssertEqual(try Tool.run("mel", ["-q", "-o", dir.path("a.mel"), clip]).status, 0)
        try FileManager.default.createDirectory(atPath: dir.path("r"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: clip, toPath: dir.path("r/a.wav"))
        let runs: [(String, String)] = [
            ("bsq-encode -o \(dir.path("a.codes")) \(dir.path("a.mel"))", "bsq-encode: 1 frames"),
            ("bsq-decode -o \(dir.path("b.mel")) \(dir.path("a.codes"))", "bsq-decode: 1 frames"),
            ("mel2wav -o \(dir.path("w"))/ \(dir.path("a.mel"))", "mel2wav: 1 frames"),
            ("wav-metrics \(dir.path("r")) \(dir.path("r")) > /dev/null", "wav-metrics: 1 pairs"),
        ]
        for (command, shown) in runs {
            let r = try Tool.runProgram("/usr/bin/script", ["-qec", "\(bin)/\(command)", "/dev/null"])
            XCTAssertEqual(r.status, 0, r.stdoutText)
            XCTAssertTrue(r.stdoutText.contains("\r" + shown), "\(command): \(r.stdoutText.debugDescription)")
            let tool = String(command.prefix { $0 != " " })
            let quiet = try Tool.runProgram("/usr/bin/script", ["-qec", "\(bin)/\(tool) -q" + command.dropFirst(tool.count), "/dev/null"])
            XCTAssertEqual(quiet.status, 0, quiet.stdoutText)
            XCTAssertEqual(quiet.stdoutText, "", "\(tool) -q prints nothing")
        }
    }
}
