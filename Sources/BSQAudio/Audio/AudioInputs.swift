#if canImport(Glibc)
import Glibc
#endif

/// One audio input of a batch: where to read it and the key its frame gets.
public struct AudioInput: Sendable, Equatable {
    /// The path as given or resolved against `--root`; "-" for stdin.
    public var path: String
    /// The utterance id (bsqt(5)), `AudioInputs.key(of:under:)`: the path
    /// relative to its root without extension, the file name without
    /// extension for a file given directly, "-" for stdin.
    public var key: String
    /// Why the input cannot be read, known before reading it (an operand
    /// folder with no audio in it): reported and counted as a failed input.
    public var problem: String?

    public init(path: String, key: String, problem: String? = nil) {
        self.path = path
        self.key = key
        self.problem = problem
    }
}

/// Turns command-line operands and lists into the ordered inputs of a batch.
public enum AudioInputs {
    /// Extensions searched for in folders (libsndfile's readable formats).
    public static let extensions: Set<String> = [
        "wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "aiff", "aif", "aifc", "au", "snd", "caf", "w64", "rf64",
    ]

    /// The inputs of a tool: its operands expanded, then the files of `list`
    /// (`fromList`); standard input ("-") when there is neither.
    public static func gather(_ operands: [String], list: String?, root: String?) throws -> [AudioInput] {
        if operands.isEmpty && list == nil { return [AudioInput(path: "-", key: "-")] }
        return try expand(operands, emptyFolders: .report) + (list.map { try fromList($0, root: root) } ?? [])
    }

    /// What an operand folder without audio files is: an error (training
    /// data), or an input of its own that fails when its turn comes (a batch goes on).
    public enum EmptyFolders { case fail, report }

    /// Files as themselves, folders searched recursively (sorted, hidden
    /// entries skipped), "-" as stdin.
    public static func expand(_ operands: [String], emptyFolders: EmptyFolders = .fail) throws -> [AudioInput] {
        var out: [AudioInput] = []
        for op in operands {
            if op == "-" {
                out.append(AudioInput(path: "-", key: "-"))
            } else if isDirectory(op) {
                let found = try walk(op)
                if found.isEmpty {
                    if emptyFolders == .fail { throw BSQError("\(op): no audio files found") }
                    out.append(AudioInput(path: op, key: dropExtension(fileName(op)), problem: "no audio files found in this folder"))
                    continue
                }
                let base = op.hasSuffix("/") ? op : op + "/"
                out += found.map { AudioInput(path: base + $0, key: key(of: $0, under: op)) }
            } else {
                out.append(AudioInput(path: op, key: dropExtension(fileName(op))))
            }
        }
        return out
    }

    /// The inputs named by a list file: one path per line, or a TSV whose
    /// header has a `path` column (Common Voice's `validated.tsv`). Relative
    /// paths are resolved against `root`, which defaults to the list's folder
    /// (or its `clips/` subfolder for a TSV, where Common Voice keeps them).
    public static func fromList(_ listPath: String, root: String?) throws -> [AudioInput] {
        let text: String
        if listPath == "-" {
            text = String(decoding: try ByteSource(path: "-").readAll(), as: UTF8.self)
        } else {
            guard let bytes = try? ByteSource(path: listPath).readAll() else {
                throw BSQError("\(listPath): \(String(cString: strerror(errno)))")
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        // "\r\n" is one Character in Swift: split on any line break, CRLF included
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        while lines.last?.isEmpty == true { lines.removeLast() }
        let listDir = listPath == "-" ? "." : directoryName(listPath)
        var column: Int? = nil
        if let header = lines.first, header.contains("\t") {
            let names = header.split(separator: "\t", omittingEmptySubsequences: false)
            guard let c = names.firstIndex(of: "path") else {
                throw BSQError("\(listPath): a tab-separated list needs a 'path' column in its header")
            }
            column = c
            lines.removeFirst()
        }
        var base = root ?? listDir
        if root == nil, column != nil, isDirectory(listDir + "/clips") { base = listDir + "/clips" }
        var out: [AudioInput] = []
        let keyRoot = KeyRoot(base)
        for (i, line) in lines.enumerated() where !line.allSatisfy({ $0 == " " || $0 == "\t" }) {
            var entry = String(line)
            if let column {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard column < fields.count else {
                    throw BSQError("\(listPath): line \(i + 2) has no 'path' field")
                }
                entry = String(fields[column])
            }
            let path = entry.hasPrefix("/") || base == "." ? entry : base + "/" + entry
            out.append(AudioInput(path: path, key: key(of: entry, under: keyRoot)))
        }
        if out.isEmpty { throw BSQError("\(listPath): the list names no files") }
        return out
    }

    /// The key of `entry`, a path relative to `root` or absolute: its path
    /// relative to the root, without extension, written one way: `.` parts
    /// and repeated slashes dropped, `..` resolved (lexically, symbolic links
    /// as they are), an absolute path under the root (itself made absolute
    /// against the working folder) made relative to it. A path outside the
    /// root is keyed by its file name. So `101/11/a.flac`, `./101//11/a.flac`
    /// and `/data/libri/101/11/a.flac` under the root `/data/libri` all have
    /// the key `101/11/a`, as in a run over the folder itself.
    public static func key(of entry: String, under root: String) -> String { key(of: entry, under: KeyRoot(root)) }

    /// A root of keys; made absolute once, when an absolute entry first needs it.
    final class KeyRoot {
        let path: String
        lazy var absoluteParts = AudioInputs.normalized(AudioInputs.absolute(path))
        init(_ path: String) { self.path = path }
    }

    static func key(of entry: String, under root: KeyRoot) -> String {
        var parts: [Substring]
        if entry.hasPrefix("/") {
            let rootParts = root.absoluteParts
            parts = normalized(entry)
            guard parts.count > rootParts.count, parts.starts(with: rootParts) else { return dropExtension(fileName(entry)) }
            parts.removeFirst(rootParts.count)
        } else {
            parts = normalized(entry)
            if parts.first == ".." || parts.isEmpty { return dropExtension(fileName(entry)) }
        }
        return dropExtension(parts.joined(separator: "/"))
    }

    /// The parts of a path without `.`, empty parts, and `..` after a part it cancels.
    static func normalized(_ path: String) -> [Substring] {
        var parts: [Substring] = []
        for p in path.split(separator: "/") where p != "." {
            if p == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(p) }
        }
        return parts
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return "/" + path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    /// Audio files under `dir`, as paths relative to it, in byte order.
    static func walk(_ dir: String) throws -> [String] {
        var found: [String] = []
        func visit(_ rel: String) throws {
            let full = rel.isEmpty ? dir : dir + "/" + rel
            guard let d = opendir(full) else { throw BSQError("\(full): \(String(cString: strerror(errno)))") }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name.hasPrefix(".") { continue }
                let child = rel.isEmpty ? name : rel + "/" + name
                if isDirectory(dir + "/" + child) {
                    try visit(child)
                } else if extensions.contains(fileExtension(name).lowercased()) {
                    found.append(child)
                }
            }
        }
        try visit("")
        return found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func fileName(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return trimmed.split(separator: "/").last.map(String.init) ?? trimmed
    }

    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    static func fileExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// `a/b/c.flac` → `a/b/c`; a dot in a folder name or a leading dot is kept.
    public static func dropExtension(_ path: String) -> String {
        let nameStart = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        guard let dot = path[nameStart...].lastIndex(of: "."), dot != nameStart else { return path }
        return String(path[..<dot])
    }
}
