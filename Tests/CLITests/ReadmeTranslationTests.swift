import Foundation
import TestSupport
import XCTest

/// README.zh-CN.md is the README's Chinese translation, kept in step with it:
/// both name the same tools (every tool the Makefile installs) and show the
/// same shell commands in their code blocks, and each links to the other.
final class ReadmeTranslationTests: XCTestCase {
    static let english = "README.md"
    static let chinese = "README.zh-CN.md"

    static func text(_ name: String) throws -> String {
        try String(contentsOf: Repo.root.appendingPathComponent(name), encoding: .utf8)
    }

    /// The kit's tools as `make install` installs them: the Makefile's `TOOLS = …` line.
    static func kitTools() throws -> Set<String> {
        let makefile = try text("Makefile")
        guard let line = makefile.split(separator: "\n").first(where: { $0.hasPrefix("TOOLS ") || $0.hasPrefix("TOOLS=") }),
              let eq = line.firstIndex(of: "=") else { return [] }
        return Set(line[line.index(after: eq)...].split(separator: " ").map(String.init))
    }

    /// The lines of a Markdown text's shell code blocks: indented blocks, and
    /// fenced blocks without an info string or with a shell's; lines ending in
    /// a backslash are joined with the next.
    static func codeLines(_ markdown: String) -> [String] {
        var out: [String] = []
        var fence: String? = nil              // the open fence's info string
        var previousBlank = true, previousCode = false
        var pending = ""
        func take(_ line: String) {
            var l = line.trimmingCharacters(in: .whitespaces)
            if l.hasSuffix("\\") {
                l.removeLast()
                pending += l + " "
                return
            }
            out.append(pending + l)
            pending = ""
        }
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                fence = fence == nil ? String(trimmed.dropFirst(3)).lowercased() : nil
                previousBlank = false; previousCode = false
                continue
            }
            if let info = fence {
                if ["", "sh", "shell", "bash", "zsh", "fish", "console"].contains(info) { take(line) }
                continue
            }
            let indented = line.hasPrefix("    ") || line.hasPrefix("\t")
            if indented && (previousBlank || previousCode) && !trimmed.isEmpty {
                take(line)
                previousCode = true
            } else if !trimmed.isEmpty {
                previousCode = false
            }
            previousBlank = trimmed.isEmpty
        }
        return out
    }

    /// A code line without its prompt, its trailing comment and repeated spaces.
    static func normalized(_ line: String) -> String {
        var l = line.trimmingCharacters(in: .whitespaces)
        if l.hasPrefix("$ ") { l.removeFirst(2) }
        if let comment = l.firstRange(of: /\s+#(\s.*)?$/) { l = String(l[..<comment.lowerBound]) }
        return l.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// The program a pipeline segment runs (after any VAR=value prefixes).
    static func program(_ segment: Substring) -> String? {
        segment.split(separator: " ").first(where: { !($0.contains("=") && !$0.hasPrefix("-")) }).map(String.init)
    }

    /// Code lines that run one of the kit's tools or make, in any segment of a pipeline.
    static func commands(_ markdown: String, tools: Set<String>) -> Set<String> {
        Set(codeLines(markdown).map(normalized).filter { line in
            line.split(separator: "|").contains { seg in program(seg).map { tools.contains($0) || $0 == "make" } ?? false }
        })
    }

    /// The tools a text names: in a code span (`mel`, `mel -q …`) or as a command in a code block.
    static func toolsNamed(_ markdown: String, tools: Set<String>) -> Set<String> {
        var named = tools.filter { markdown.contains("`\($0)`") || markdown.contains("`\($0) ") }
        for line in codeLines(markdown).map(normalized) {
            for seg in line.split(separator: "|") { if let p = program(seg), tools.contains(p) { named.insert(p) } }
        }
        return named
    }

    static func difference(_ a: Set<String>, _ b: Set<String>) -> String {
        let onlyA = a.subtracting(b).sorted(), onlyB = b.subtracting(a).sorted()
        return (onlyA.isEmpty ? "" : "only in \(english):\n  " + onlyA.joined(separator: "\n  ") + "\n")
            + (onlyB.isEmpty ? "" : "only in \(chinese):\n  " + onlyB.joined(separator: "\n  ") + "\n")
    }

    func testBothNameEveryToolOfTheKit() throws {
        let tools = try Self.kitTools()
        XCTAssertEqual(tools.count, 10, "the Makefile's TOOLS line: \(tools.sorted())")
        let en = Self.toolsNamed(try Self.text(Self.english), tools: tools)
        let zh = Self.toolsNamed(try Self.text(Self.chinese), tools: tools)
        XCTAssertEqual(en, tools, "\(Self.english) does not name \(tools.subtracting(en).sorted())")
        XCTAssertEqual(zh, tools, "\(Self.chinese) does not name \(tools.subtracting(zh).sorted())")
    }

    func testBothShowTheSameCommands() throws {
        let tools = try Self.kitTools()
        let en = Self.commands(try Self.text(Self.english), tools: tools)
        let zh = Self.commands(try Self.text(Self.chinese), tools: tools)
        XCTAssertGreaterThan(en.count, 30, "commands found in \(Self.english): \(en.sorted())")
        XCTAssertTrue(en.contains("make install PREFIX=~/.local"), "\(en.sorted())")
        XCTAssertTrue(en.contains("bsq-train train --preset tiny --steps 20000 --set train.inv_temp=10 "
                                  + "--val heldout.mel --plot runs/tiny.png -o runs/tiny train.mel"), "a continued line is one command")
        XCTAssertTrue(en == zh, "the READMEs' commands differ:\n" + Self.difference(en, zh))
    }

    func testEachLinksToTheOther() throws {
        let en = try Self.text(Self.english), zh = try Self.text(Self.chinese)
        XCTAssertTrue(en.contains("](\(Self.chinese))"), "\(Self.english) links to \(Self.chinese)")
        XCTAssertTrue(en.contains("中文说明"), "\(Self.english) names its Chinese translation")
        XCTAssertTrue(zh.contains("](\(Self.english))"), "\(Self.chinese) links back to \(Self.english)")
    }

    /// The comparison fails when a command is added to one README only,
    /// in an indented block or a fenced one, or when a tool is named in one only.
    func testACommandInOneOnlyIsCaught() throws {
        let tools = try Self.kitTools()
        let en = try Self.text(Self.english), zh = try Self.text(Self.chinese)
        let base = Self.commands(zh, tools: tools)
        let indented = Self.commands(zh + "\n\n    mel extra.wav > extra.mel     # 另一条命令\n", tools: tools)
        XCTAssertEqual(indented.subtracting(base), ["mel extra.wav > extra.mel"])
        let fenced = Self.commands(en + "\n\n```sh\n$ make extra-target\n```\n", tools: tools)
        XCTAssertEqual(fenced.subtracting(Self.commands(en, tools: tools)), ["make extra-target"])
        let piped = Self.commands(en + "\n\n    sox a.flac -t wav - | bsq-plot mel - -o x.png\n", tools: tools)
        XCTAssertEqual(piped.count, Self.commands(en, tools: tools).count + 1)
        let python = Self.commands(en + "\n\n```python\nmel = load()\n```\n", tools: tools)
        XCTAssertEqual(python, Self.commands(en, tools: tools), "Python blocks hold no shell commands")
        let fewer = Self.toolsNamed("`mel` and `bsq-encode -m x`", tools: tools)
        XCTAssertEqual(fewer, ["mel", "bsq-encode"])
    }
}
