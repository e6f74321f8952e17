import Foundation
import TestSupport
import XCTest

/// The committed completion scripts (completions/, what `make install` installs) in real
/// shells: paths complete for positional file arguments and file-valued options, folders
/// for folder-valued ones, words for enumerations, option names after `--`.
///
/// bash: the function `complete -p` names is called as readline calls it (COMP_WORDS,
/// COMP_CWORD, COMP_LINE, COMP_POINT; COMPREPLY read back). zsh: an interactive `zsh -f`
/// under zpty gets each line and one Tab; the edited line is read back. fish: `complete -C`.
/// zsh and fish are skipped where they are not installed (`make deps` installs them).
final class CompletionCLITests: XCTestCase {
    /// A command line completed at its end, and the candidates it must give there, exactly
    /// (a folder with its trailing /). Words are split on blanks only: no = in the lines.
    struct Case {
        let line: String
        let expected: [String]
        init(_ line: String, _ expected: [String]) { self.line = line; self.expected = expected }
        /// zsh shows its result in the edited line, which one Tab changes only for one candidate.
        /// (Where no folder or no file of the extension matches, zsh's _files offers every file,
        /// as its default file-patterns style says: the cases of none are not zsh's.)
        var zshLine: String? {
            switch expected.count {
            case 1:
                let word = expected[0]
                let prefix = line.hasSuffix(" ") ? line : String(line[..<(line.lastIndex(of: " ").map { line.index(after: $0) } ?? line.startIndex)])
                return prefix + word + (word.hasSuffix("/") ? "" : " ")
            default: return nil
            }
        }
    }

    static let cases: [Case] = {
        var c: [Case] = [
            // the issue's two lines
            Case("mel Lib", ["Libri/"]),
            Case("bsq-encode -m sma", ["small.safetensors"]),
            // enumerations, option names, folders, an extension
            Case("mel --preset t", ["torchaudio"]),
            Case("mel2wav --format fl", ["flac"]),
            Case("bsq-train train --preset ", ["base", "small", "tiny"]),
            Case("bsq-train vocoder --preset ", ["base", "tiny"]),
            Case("bsq-tensor cat --kind c", ["codes"]),
            Case("bsq-plot mel --colormap m", ["magma"]),
            Case("mel --n-f", ["--n-fft"]),
            Case("bsq-train train --resu", ["--resume"]),
            Case("mel --n-fft 512 Lib", ["Libri/"]),
            Case("mel --n-mels 80 -o sm", ["small.safetensors"]),
            Case("mel --root ", ["Libri/", "runs/"]),
            Case("mel --root r", ["runs/"]),
            Case("mel --root note", []),
            Case("bsq-train train --root L", ["Libri/"]),
            Case("bsq-train train -o ", ["Libri/", "runs/"]),
            Case("bsq-tensor to-npy -o r", ["runs/"]),
            Case("bsq-tensor from-npy ", ["Libri/", "runs/", "x.npy"]),
            Case("bsq-tensor from-npy x", ["x.npy"]),
            Case("bsq-tensor from-npy note", []),
        ]
        // every positional path argument
        for command in ["mel", "specaug", "bsq-encode", "bsq-decode", "mel2wav", "wav-metrics", "wav-metrics notes.txt",
                        "spec-metrics", "spec-metrics notes.txt", "bsq-tensor info", "bsq-tensor cat", "bsq-tensor to-npy",
                        "bsq-plot curves", "bsq-plot mel", "bsq-train train", "bsq-train vocoder", "bsq-train export"] {
            c.append(Case(command + " Lib", ["Libri/"]))
        }
        c.append(Case("mel Libri/", ["Libri/a.flac", "Libri/sub/"]))
        // every file-valued option
        for command in ["mel -o", "mel --list", "specaug -o", "bsq-encode -o", "bsq-decode -m", "bsq-decode -o", "mel2wav -o",
                        "mel2wav --vocoder", "spec-metrics --codes", "bsq-plot curves -o", "bsq-plot mel -o",
                        "bsq-train init -o", "bsq-train export -o", "bsq-train train --init", "bsq-train train --resume",
                        "bsq-train train --config", "bsq-train train --log", "bsq-train train --plot", "bsq-train train --val",
                        "bsq-train train --list", "bsq-train vocoder --codec", "bsq-train vocoder --init"] {
            c.append(Case(command + " sma", ["small.safetensors"]))
        }
        return c
    }()

    static let completions = Repo.root.appendingPathComponent("completions")

    /// A folder to complete in: `Libri/` (holding a.flac and sub/), `runs/`, small.safetensors, notes.txt, x.npy.
    func workFolder() throws -> TempDir {
        let dir = TempDir()
        for d in ["Libri/sub", "runs"] {
            try FileManager.default.createDirectory(atPath: dir.path(d), withIntermediateDirectories: true)
        }
        for f in ["Libri/a.flac", "small.safetensors", "notes.txt", "x.npy"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: dir.path(f), contents: Data()))
        }
        return dir
    }

    /// The executable `name` on PATH, or nil.
    func onPath(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a shell with a time limit: a completion that loops must fail the test, not hang it.
    func runShell(_ exe: String, _ args: [String], cwd: URL) throws -> ToolResult {
        if let timeout = onPath("timeout") { return try Tool.runProgram(timeout, ["120", exe] + args, cwd: cwd) }
        return try Tool.runProgram(exe, args, cwd: cwd)
    }

    /// Output blocks, one per case, each ended by a `<<end>>` line.
    func blocks(_ text: String) -> [[String]] {
        var out: [[String]] = [], cur: [String] = []
        for l in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if l == "<<end>>" { out.append(cur); cur = [] } else if !l.isEmpty { cur.append(l) }
        }
        return out
    }

    func testBashCompletesPathsOptionsAndValues() throws {
        let bash = try XCTUnwrap(onPath("bash"))
        let dir = try workFolder()
        let harness = dir.path("harness.bash")
        try """
            # bash harness.bash COMPLETIONS LINE...: each LINE completed at its end as readline does
            for f in "$1"/bash/*; do source "$f"; done
            shift
            for line in "$@"; do
                read -ra words <<< "$line"
                [[ $line == *" " ]] && words+=("")
                COMP_WORDS=("${words[@]}"); COMP_CWORD=$(( ${#words[@]} - 1 ))
                COMP_LINE=$line; COMP_POINT=${#line}
                spec=$(complete -p "${words[0]}") || { echo "<<end>>"; continue; }
                [[ $spec == *" -o filenames "* ]] || echo "(no -o filenames: $spec)"
                fn=${spec##* -F }; fn=${fn%% *}
                COMPREPLY=()
                "$fn" "${words[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf '%s\\n' "${COMPREPLY[@]}"
                echo "<<end>>"
            done
            """.write(toFile: harness, atomically: true, encoding: .utf8)
        let r = try runShell(bash, ["--norc", "--noprofile", harness, Self.completions.path] + Self.cases.map(\.line), cwd: dir.url)
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = blocks(r.stdoutText)
        XCTAssertEqual(got.count, Self.cases.count, r.stdoutText + r.stderr)
        for (c, words) in zip(Self.cases, got) {
            // COMPREPLY holds a folder without its /: readline adds it (complete -o filenames)
            let expected = c.expected.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            XCTAssertEqual(words.sorted(), expected.sorted(), "bash: \(c.line)<TAB>")
        }
    }

    func testFishCompletesPathsOptionsAndValues() throws {
        guard let fish = onPath("fish") else { throw XCTSkip("fish is not installed") }
        let dir = try workFolder()
        let harness = dir.path("harness.fish")
        try """
            # fish harness.fish COMPLETIONS LINE...: the candidates of each LINE
            for f in $argv[1]/fish/*.fish; source $f; end
            for line in $argv[2..]
                complete -C "$line" | string replace -r '\\t.*' ''
                echo '<<end>>'
            end
            """.write(toFile: harness, atomically: true, encoding: .utf8)
        let r = try runShell(fish, ["--no-config", harness, Self.completions.path] + Self.cases.map(\.line), cwd: dir.url)
        XCTAssertEqual(r.status, 0, "fish: \(r.stderr) (124: timed out)")
        let got = blocks(r.stdoutText)
        XCTAssertEqual(got.count, Self.cases.count, r.stdoutText + r.stderr)
        for (c, words) in zip(Self.cases, got) {
            XCTAssertEqual(words.sorted(), c.expected.sorted(), "fish: \(c.line)<TAB>")
        }
    }

    func testZshCompletesPathsOptionsAndValues() throws {
        guard let zsh = onPath("zsh") else { throw XCTSkip("zsh is not installed") }
        let dir = try workFolder()
        let harness = dir.path("harness.zsh"), out = dir.path("zsh.out")
        try """
            # zsh -f harness.zsh COMPLETIONS OUT LINE...: types each LINE and one Tab into an interactive
            # zsh, appends the edited line to OUT as <line>
            zmodload zsh/zpty || exit 3
            comps=$1 out=$2; shift 2
            zpty z zsh -f -i
            zpty -w z "PS1='%% '; setopt nobeep; autoload -Uz compinit; compinit -u -D; for f in ${(q)comps}/zsh/_*; do source \\$f; done"
            zpty -w z "dump() { print -r -- \\"<\\$BUFFER>\\" >> ${(q)out}; BUFFER=; }; zle -N dump; bindkey '^Y' dump"   # ^Y: not a prefix key, so no KEYTIMEOUT wait
            zpty -w z "print -r -- ready >> ${(q)out}"
            wait_lines() { for i in {1..400}; do [[ -e $out && $(wc -l < $out) -ge $1 ]] && return 0; sleep 0.05; done; return 1 }
            wait_lines 1 || exit 4
            n=1
            for line in "$@"; do
                zpty -n -w z "$line"$'\\t\\x19'
                (( n++ ))
                wait_lines $n || { print -r -- "<timed out>" >> $out; break }
            done
            zpty -d z
            """.write(toFile: harness, atomically: true, encoding: .utf8)
        let cases = Self.cases.filter { $0.zshLine != nil }
        let r = try runShell(zsh, ["-f", harness, Self.completions.path, out] + cases.map(\.line), cwd: dir.url)
        XCTAssertEqual(r.status, 0, "zsh: \(r.stdoutText) \(r.stderr)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init).dropFirst()
        XCTAssertEqual(lines.count, cases.count, lines.joined(separator: "\n"))
        for (c, line) in zip(cases, lines) {
            XCTAssertEqual(line, "<\(c.zshLine!)>", "zsh: \(c.line)<TAB>")
        }
    }

    /// What the shells reject, checked in the scripts themselves (where zsh or fish is missing too).
    func testScriptsAvoidWhatTheShellsReject() throws {
        for t in DocumentationTests.tools {
            // zsh: _arguments refuses a spec list with two rest arguments ("doubled rest argument definition")
            let zsh = try String(contentsOf: Self.completions.appendingPathComponent("zsh/_\(t)"), encoding: .utf8)
            for block in zsh.components(separatedBy: "local -ar arg_specs=(").dropFirst() {
                let specs = block.components(separatedBy: "\n    )")[0].split(separator: "\n")
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                let rest = specs.filter { $0.hasPrefix("'*:") || $0.hasPrefix("'(-)*:") }
                XCTAssertLessThanOrEqual(rest.count, 1, "zsh/_\(t): \(rest)")
            }
            XCTAssertTrue(zsh.contains(":_files'"), "zsh/_\(t) completes files")
            // fish: argparse refuses two option specs with the same short flag ('n-fft=' is -n, hidden)
            let fish = try String(contentsOf: Self.completions.appendingPathComponent("fish/\(t).fish"), encoding: .utf8)
            for line in fish.split(separator: "\n") where line.contains("_parse_subcommand ") && line.contains("'") {
                let shorts = line.split(separator: " ").filter { $0.hasPrefix("'") }.map { Array($0.dropFirst()) }
                    .compactMap { s -> Character? in s.count > 1 && (s[1] == "/" || s[1] == "-") ? s[0] : nil }
                XCTAssertEqual(Set(shorts).count, shorts.count, "fish/\(t).fish: \(line)")
            }
        }
        let mel = try String(contentsOf: Self.completions.appendingPathComponent("zsh/_mel"), encoding: .utf8)
        XCTAssertTrue(mel.contains("'*:inputs:_files'"))
        XCTAssertTrue(mel.contains("'--root[") && mel.contains("]:dir:_files -/'"))
        let encode = try String(contentsOf: Self.completions.appendingPathComponent("zsh/_bsq-encode"), encoding: .utf8)
        XCTAssertTrue(encode.contains("'(--model -m)'{--model,-m}'[") && encode.contains("]:file:_files'"))
    }
}
