import BSQAudio
import Foundation
import TestSupport
import XCTest

/// Man pages lint clean and exist for every tool; committed completions are
/// what the tools generate now.
final class DocumentationTests: XCTestCase {
    static let tools = ["bsq-tensor", "mel", "specaug", "spec-metrics", "bsq-encode", "bsq-decode", "bsq-train", "bsq-plot", "mel2wav",
                        "wav-metrics"]

    func testManPagesLintWithoutWarnings() throws {
        let man = Repo.root.appendingPathComponent("man")
        let pages = try FileManager.default.subpathsOfDirectory(atPath: man.path)
            .filter { $0.hasSuffix(".1") || $0.hasSuffix(".5") }.sorted()
        XCTAssertTrue(pages.contains("man5/bsqt.5"))
        for t in Self.tools { XCTAssertTrue(pages.contains("man1/\(t).1"), "man page of \(t)") }
        for p in pages {
            let r = try Tool.shell("mandoc -Tlint -W warning '\(man.path)/\(p)'")
            XCTAssertEqual(r.status, 0, "\(p): \(r.stdoutText)\(r.stderr)")
            XCTAssertEqual(r.stdoutText + r.stderr, "", p)
            let text = try Tool.shell("mandoc -Tutf8 '\(man.path)/\(p)' | col -b")
            XCTAssertTrue(text.stdoutText.contains("EXAMPLES"), "\(p) has an EXAMPLES section")
            XCTAssertTrue(text.stdoutText.contains("|"), "\(p) shows a pipeline")
        }
    }

    /// The contracts the code implements are documents of the repository
    /// (docs/model.md, bsqt(5)): nothing points at files outside it.
    func testNothingCitesDocumentsOutsideTheRepository() throws {
        let r = try Tool.shell("cd '\(Repo.root.path)' && git ls-files | grep -v '^docs/model.md$' "
                               + "| xargs grep -n -I -e 'MODEL\\.md' -e 'FORMAT\\.md' -e '\\.\\./shared' || true")
        XCTAssertEqual(r.stdoutText, "", "citations of documents outside the repository")
        for doc in ["docs/model.md", "man/man5/bsqt.5"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: Repo.root.appendingPathComponent(doc).path), doc)
        }
    }

    func testCompletionsAreCurrent() throws {
        for t in Self.tools {
            for (shell, file) in [("bash", "bash/\(t)"), ("zsh", "zsh/_\(t)"), ("fish", "fish/\(t).fish")] {
                let r = try Tool.run(t, ["--generate-completion-script", shell])
                XCTAssertEqual(r.status, 0)
                let committed = try String(contentsOf: Repo.root.appendingPathComponent("completions/\(file)"), encoding: .utf8)
                XCTAssertEqual(r.stdoutText, committed, "completions/\(file) is stale: run make completions")
            }
        }
    }

    /// --version on every tool: the kit's version, the default model and vocoder, the C libraries.
    func testEveryToolSaysItsVersion() throws {
        for t in Self.tools {
            let r = try Tool.run(t, ["--version"])
            XCTAssertEqual(r.status, 0, "\(t): \(r.stderr)")
            XCTAssertEqual(r.stdoutText.split(separator: "\n").first.map(String.init), "\(t) (bsq-audio) \(KitVersion.number)")
            XCTAssertTrue(r.stdoutText.contains("default model: bsq-audio-tiny18.safetensors ("), r.stdoutText)
            XCTAssertTrue(r.stdoutText.contains("default vocoder: bsq-audio-vocos-tiny.safetensors ("), r.stdoutText)
            for lib in ["libsndfile-1.", "fftw-3.", "OpenBLAS 0.", "zstd 1.", "libsoxr-0."] {
                XCTAssertTrue(r.stdoutText.contains(lib), "\(t) --version names \(lib): \(r.stdoutText)")
            }
        }
    }

    func testHelpReadsLikeAManual() throws {
        for t in Self.tools {
            let r = try Tool.run(t, ["--help"])
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdoutText.contains("USAGE:"))
            XCTAssertTrue(r.stdoutText.contains("Examples:"), "\(t) --help has examples")
        }
    }
}
