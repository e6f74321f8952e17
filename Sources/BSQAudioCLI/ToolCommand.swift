import ArgumentParser
import BSQAudio
#if canImport(Glibc)
import Glibc
#endif

/// What every tool's entry point shares: errors as one `tool: message` line
/// on stderr with a nonzero exit (64 for a usage error), data only on
/// stdout, quiet death on SIGPIPE.
public protocol ToolCommand: ParsableCommand {}

extension ToolCommand {
    public static func main() {
        ToolProcess.start()
        let tool = configuration.commandName ?? String(describing: Self.self)
        ToolProcess.name = tool
        do {
            var command = try parseAsRoot()
            try command.run()
            try ToolProcess.finish()
            ToolProcess.leaving?()
        } catch let e as BSQError {
            ToolProcess.fail(e.message)
        } catch is BrokenPipe {
            ToolProcess.diedOfSIGPIPE()
        } catch {
            let code = exitCode(for: error)
            if code == .success, let script = CompletionScripts.requested(by: Array(CommandLine.arguments.dropFirst()), for: self) {
                print(script)   // --generate-completion-script, repaired (CompletionScripts.swift)
                Glibc.exit(0)
            }
            if code == .success { exit(withError: error) }
            // one line: a bullet list of the values allowed joins the first line; the usage after it goes
            let lines = self.message(for: error).split(separator: "\n").map(String.init)
            let bullets = lines.dropFirst().prefix { $0.hasPrefix("  - ") }.map { $0.dropFirst(4) }
            let message = (lines.first ?? "\(error)") + (bullets.isEmpty ? "" : " " + bullets.joined(separator: ", "))
            ToolProcess.fail(message, status: code == .validationFailure ? 64 : code.rawValue)
        }
        Glibc.exit(0)
    }
}
