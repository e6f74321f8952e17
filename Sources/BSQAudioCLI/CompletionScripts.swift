import ArgumentParser

/// `--generate-completion-script`, with what swift-argument-parser 1.8's generators get
/// wrong for this kit repaired. The repair is here, where the scripts are generated, so
/// `make completions`, the check that the committed scripts are current, and a user's own
/// `mel --generate-completion-script fish` all give the same working script.
///
/// - zsh: the generator gives every root command a `help` subcommand, which a tool
///   without subcommands does not have (`mel help` reads a file named help). Its two
///   dispatch specs, `'(-): :->command'` and `'(-)*:: :->arg'`, sit beside the tool's own
///   positionals; beside a repeating one (`'*:inputs:_files'`) `_arguments` rejects the
///   whole list ("doubled rest argument definition"), so nothing completed at all.
///   They are left out for a tool without subcommands.
/// - fish: an option spec such as `n-fft=` reads to fish's `argparse` as the hidden short
///   flag n with the long name `fft`. Two of them (`--n-fft`, `--n-mels`) are an error, so
///   every `argparse` call fails, and the token loop of a tool with a repeating positional
///   never ends: Tab hangs the shell. Such a spec gets a hidden short flag of its own (a
///   digit: `0-n-fft=` is the long option `--n-fft`, its variable `_flag_n_fft`).
public enum CompletionScripts {
    static let flag = "--generate-completion-script"

    /// The script `arguments` (without the tool's name) ask for, repaired; nil when they
    /// ask for none or name no shell this can tell (the parser's own answer stands then).
    public static func requested(by arguments: [String], for command: ParsableCommand.Type) -> String? {
        guard let i = arguments.firstIndex(where: { $0 == flag || $0.hasPrefix(flag + "=") }) else { return nil }
        let name = arguments[i] == flag
            ? (i + 1 < arguments.count ? arguments[i + 1] : nil)
            : String(arguments[i].dropFirst(flag.count + 1))
        guard let shell = name.flatMap(CompletionShell.init(rawValue:)) ?? CompletionShell.autodetected() else { return nil }
        return repaired(command.completionScript(for: shell), shell: shell,
                        hasSubcommands: !command.configuration.subcommands.isEmpty)
    }

    static func repaired(_ script: String, shell: CompletionShell, hasSubcommands: Bool) -> String {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        switch shell {
        case .zsh where !hasSubcommands:
            let dispatch: Set<String> = ["'(-): :->command'", "'(-)*:: :->arg'"]
            return lines.filter { !dispatch.contains($0.trimmingSpaces) }.joined(separator: "\n")
        case .fish:
            return lines.map(hiddenShortFlagsForDashedLongNames).joined(separator: "\n")
        default:
            return script
        }
    }

    /// `__mel_parse_subcommand -r 1 'list=' 'n-fft=' 'n-mels=' …` →
    /// `__mel_parse_subcommand -r 1 'list=' '0-n-fft=' '1-n-mels=' …`
    static func hiddenShortFlagsForDashedLongNames(_ line: String) -> String {
        let trimmed = line.trimmingSpaces
        guard trimmed.hasPrefix("__"), trimmed.split(separator: " ").first?.hasSuffix("_parse_subcommand") == true
        else { return line }
        var words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        func spec(_ w: String) -> [Character] { w.hasPrefix("'") ? Array(w.dropFirst()) : [] }
        let taken = Set(words.compactMap { w -> Character? in
            let s = spec(w)
            return s.count > 1 && s[1] == "/" ? s[0] : nil
        })
        var free = Array("0123456789").filter { !taken.contains($0) }.makeIterator()
        for (k, w) in words.enumerated() {
            let s = spec(w)
            guard s.count > 2, s[0].isLetter || s[0].isNumber, s[1] == "-", let hidden = free.next() else { continue }
            words[k] = "'\(hidden)-" + w.dropFirst()
        }
        return words.joined(separator: " ")
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
