/// An error that a tool reports as one line, `tool: message`, before exiting nonzero.
public struct BSQError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
