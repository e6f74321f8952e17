import BSQAudio
import Foundation

/// A one-line progress bar on stderr, drawn only when stderr is a terminal
/// (and `enabled`), redrawn at most ten times a second.
public final class ProgressBar: ProgressDisplay {
    private let total: Int
    private let label: String
    private let enabled: Bool
    private var last = Date.distantPast

    public init(total: Int, label: String, enabled: Bool = true) {
        self.total = total
        self.label = label
        self.enabled = enabled && total > 1 && FileHandleStderr.isTerminal
    }

    /// A count without a bar, for a stream whose length is not known ahead (frames on a pipe).
    public init(counting label: String, enabled: Bool = true) {
        total = -1
        self.label = label
        self.enabled = enabled && FileHandleStderr.isTerminal
    }

    /// Shows `done` of `total`, with an optional note (e.g. a speed).
    public func update(_ done: Int, note: String = "") {
        guard enabled else { return }
        let now = Date()
        guard done == total || now.timeIntervalSince(last) >= 0.1 else { return }
        last = now
        if total < 0 {
            FileHandleStderr.write("\r\(ToolProcess.name): \(done) \(label)\(note.isEmpty ? "" : "  " + note)\u{1B}[K")
            return
        }
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandleStderr.write("\r\(ToolProcess.name): [\(bar)] \(done)/\(total) \(label)\(note.isEmpty ? "" : "  " + note)\u{1B}[K")
    }

    /// Clears the bar's line.
    public func finish() {
        guard enabled else { return }
        FileHandleStderr.write("\r\u{1B}[K")
    }
}
