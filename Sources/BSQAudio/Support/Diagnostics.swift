/// What a batch tells its caller besides its results: an input it could not
/// use and skipped while the batch went on, and warnings. The tools print
/// them on stderr (`tool: message`, `tool: warning: message`); the library
/// itself never writes to stderr. Both may be called from worker threads.
public struct Diagnostics: Sendable {
    public var problem: @Sendable (String) -> Void
    public var warning: @Sendable (String) -> Void

    public init(problem: @escaping @Sendable (String) -> Void = { _ in },
                warning: @escaping @Sendable (String) -> Void = { _ in }) {
        self.problem = problem
        self.warning = warning
    }

    /// Says nothing.
    public static let silent = Diagnostics()
}

/// How far long work has come, for a caller that shows it (the tools draw a
/// bar on stderr when it is a terminal). Called on the thread that runs the work.
public protocol ProgressDisplay: AnyObject {
    /// `done` units of the total, with a note such as a speed.
    func update(_ done: Int, note: String)
    /// Takes the display away: before a message, and at the end.
    func finish()
}

/// A stop asked for from outside the work, such as by SIGINT: the tools'
/// signal handler sets `signal`; long work (`Trainer`) checks it between
/// units, saves what it has, and returns.
public enum Interruption {
    /// The signal received (0: none).
    nonisolated(unsafe) public static var signal: Int32 = 0
}
