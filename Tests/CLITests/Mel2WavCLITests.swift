import BSQAudio
import Foundation
import TestSupport
import XCTest

/// `mel2wav` against librosa 0.11's mel_to_stft + griffinlim (= mel_to_audio
/// with a seeded phase), on the committed fixtures made by
/// Tests/Fixtures/wave/make_wave_fixtures.py (see its manifest.json).
final class Mel2WavCLITests: XCTestCase {
    struct Manifest: Decodable {
        struct Case: Decodable {
            let name: String
            let mel: String
            let expected: String
            let args: [String]
            let samples: Int
            let sample_rate: Int
            let normalized_peak: Double?
            let exact: Bool
        }
        let vocoder: [Case]
    }

    static func fixture(_ name: String) -> String { Repo.fixture("wave/" + name).path }

    func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Repo.fixture("wave/manifest.json")))
    }

    /// Every sample of an audio file, interleaved.
    static func samples(_ path: String) throws -> (values: [Float], rate: Int) {
        let f = try SoundFile(path: path)
        var out: [Float] = []
        var buffer = [Float](repeating: 0, count: 4096 * f.channels)
        while true {
            let got = try buffer.withUnsafeMutableBufferPointer { try f.read(into: $0.baseAddress!, frames: 4096) }
            if got == 0 { break }
            out += buffer[0..<(got * f.channels)]
        }
        return (out, f.sampleRate)
    }

    func testSamplesMatchLibrosa() throws {
        let dir = TempDir()
        var worst = 0.0
        let cases = try manifest().vocoder
        XCTAssertGreaterThanOrEqual(cases.filter(\.exact).count, 5)
        for c in cases {
            let out = dir.path(c.name + ".wav")
            let r = try Tool.run("mel2wav", ["-q", "--format", "wav-float", "-o", out] + c.args + [Self.fixture(c.mel)])
            XCTAssertEqual(r.status, 0, "\(c.name): \(r.stderr)")
            guard r.status == 0 else { continue }
            let (got, rate) = try Self.samples(out)
            var want: [Float] = try Npy.decode(try Repo.fixtureData("wave/" + c.expected), name: c.expected).values()
            if let peak = c.normalized_peak {
                let top = want.reduce(Float(0)) { max($0, abs($1)) }
                want = want.map { $0 * Float(peak) / top }
            }
            XCTAssertEqual(rate, c.sample_rate, c.name)
            XCTAssertEqual(got.count, c.samples, c.name)
            guard got.count == want.count else { continue }
            if c.exact {
                let d = zip(got, want).reduce(0.0) { max($0, Double(abs($1.0 - $1.1))) }
                XCTAssertLessThanOrEqual(d, 1e-3, "\(c.name): max |Δ| \(d)")
                worst = max(worst, d)
            } else {
                // not reproducible to rounding (see the manifest): the same sound, by STOI
                let stoi = STOI.score(clean: want.map(Double.init), processed: got.map(Double.init), sampleRate: rate)
                XCTAssertGreaterThan(stoi, 0.9, "\(c.name): STOI against librosa's \(stoi)")
            }
        }
        print("mel2wav fixtures: worst max |Δ| \(worst) over the exact cases")
    }

    func testStandardOutputEqualsFileAndFlacByExtension() throws {
        let dir = TempDir()
        let mel = Self.fixture("vocoder_default.mel")
        XCTAssertEqual(try Tool.run("mel2wav", ["-o", dir.path("a.wav"), mel]).status, 0)
        let piped = try Tool.shell("cat '\(mel)' | mel2wav")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(piped.stdout, try Repo.read(dir.path("a.wav")), "stdout holds the same WAV as -o")
        XCTAssertEqual(Array(piped.stdout.prefix(4)), Array("RIFF".utf8))
        XCTAssertEqual(try Tool.run("mel2wav", ["-o", dir.path("a.flac"), mel]).status, 0)
        XCTAssertEqual(Array(try Repo.read(dir.path("a.flac")).prefix(4)), Array("fLaC".utf8))
        let (flac, _) = try Self.samples(dir.path("a.flac"))
        let (wav, _) = try Self.samples(dir.path("a.wav"))
        XCTAssertEqual(flac.count, wav.count)
        let d = zip(flac, wav).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        XCTAssertLessThanOrEqual(d, 2 / 32768, "both 16-bit, lossless")
        let peak = wav.reduce(Float(0)) { max($0, abs($1)) }
        XCTAssertEqual(Double(peak), 0.9, accuracy: 1e-4, "ref=max frames are scaled to a peak of 0.9")
    }

    func testStreamToFolderByKeyWhateverTheJobs() throws {
        let dir = TempDir()
        let stream = try Repo.read(Self.fixture("vocoder_default.mel")) + Repo.read(Self.fixture("vocoder_short_no_center.mel"))
        for jobs in ["1", "2"] {
            let r = try Tool.run("mel2wav", ["-j", jobs, "-o", dir.path("out\(jobs)/sub") + "/"], stdin: stream)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stderr, "mel2wav: processed 2 of 2\n")
            let quiet = try Tool.run("mel2wav", ["-q", "-j", jobs, "-o", dir.path("quiet\(jobs)") + "/"], stdin: stream)
            XCTAssertEqual(quiet.status, 0, quiet.stderr)
            XCTAssertEqual(quiet.stderr, "", "-q: nothing but errors")
        }
        for key in ["vocoder_default", "vocoder_short_no_center"] {
            XCTAssertEqual(try Repo.read(dir.path("out1/sub/\(key).wav")), try Repo.read(dir.path("out2/sub/\(key).wav")), key)
        }
    }

    func testBadInputsAndOptions() throws {
        let dir = TempDir()
        let out = dir.path("x.wav")
        let codes = try encodeFrames([Frame([UInt32](repeating: 1, count: 4), dims: [2, 2], meta: JSONObject(["kind": "codes", "key": "c"]))])
        assertToolError(try Tool.run("mel2wav", ["-o", out], stdin: codes), "mel2wav", contains: "frame 0 (c): not a mel frame: kind \"codes\"", status: 1)
        assertToolError(try Tool.run("mel2wav", ["-o", out, dir.path("missing.mel")]), "mel2wav", contains: "missing.mel", status: 1)
        let two = try Repo.read(Self.fixture("vocoder_default.mel")) + Repo.read(Self.fixture("vocoder_default.mel"))
        assertToolError(try Tool.run("mel2wav", ["-o", out], stdin: two), "mel2wav", contains: "give -o DIR", status: 1)
        assertToolError(try Tool.run("mel2wav", [], stdin: two), "mel2wav", contains: "give -o DIR", status: 1)
        assertToolError(try Tool.run("mel2wav", ["-o", out], stdin: Array(two.prefix(100))), "mel2wav", contains: "ends inside a frame", status: 1)
        assertToolError(try Tool.run("mel2wav", ["--iters=-1", Self.fixture("vocoder_default.mel")]), "mel2wav", contains: "--iters must be >= 0 (got -1)", status: 64)
        assertToolError(try Tool.run("mel2wav", ["--peak", "2", Self.fixture("vocoder_default.mel")]), "mel2wav", contains: "--peak", status: 64)
        assertToolError(try Tool.run("mel2wav", ["--init-phase", "ones", Self.fixture("vocoder_default.mel")]), "mel2wav", contains: "ones", status: 64)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), [], "nothing partial is left")
        // one bad frame of a stream to a folder: reported, the others written
        let mixed = try Repo.read(Self.fixture("vocoder_short_no_center.mel")) + codes
        let r = try Tool.run("mel2wav", ["-o", dir.path("rec") + "/"], stdin: mixed)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("mel2wav: frame 1"), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("mel2wav: processed 1 of 2\n"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path("rec/vocoder_short_no_center.wav")))
    }
}
