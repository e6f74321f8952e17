import Foundation

/// A training run's JSON-lines log (`RUN/log.jsonl`). A fresh run refuses an
/// existing log; a resumed one keeps its lines up to the step it resumes
/// from (rewritten atomically) and appends.
public final class RunLog {
    private let handle: FileHandle

    /// `keepingUpTo`: the step a resumed run goes on from (nil: a new run).
    /// `stale`: a new run may replace the log there (that of a run, in a
    /// locked folder without checkpoints, that died before its first one).
    public init(path: String, keepingUpTo step: Int?, stale: Bool = false) throws {
        let fm = FileManager.default
        if step == nil, stale, fm.fileExists(atPath: path) { unlink(path) }
        if fm.fileExists(atPath: path) {
            guard let step else { throw BSQError("\(path): exists (a new run does not overwrite a log)") }
            let text = String(decoding: try ByteSource(path: path).readAll(), as: UTF8.self)
            var kept = ""
            for line in text.split(whereSeparator: \.isNewline) {
                if let v = try? JSONValue.parse(String(line)), let s = v["step"]?.int, s > step { continue }
                kept += line + "\n"
            }
            let f = try AtomicFile(path: path)
            try f.write(Array(kept.utf8))
            try f.commit()
        } else {
            guard fm.createFile(atPath: path, contents: nil) else { throw BSQError("\(path): cannot create the log") }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw BSQError("\(path): cannot open the log") }
        h.seekToEndOfFile()
        handle = h
    }

    public func write(_ o: JSONObject) {
        handle.write(Data((JSONValue.object(o).serialized() + "\n").utf8))
    }

    public func close() { try? handle.close() }
}
