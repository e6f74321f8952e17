/// Reads several frame streams side by side and hands over their frames in
/// matching tuples: frames with the same key, or (`byOrder`) the i-th frame
/// of each.
///
/// By key, the streams are read in lockstep and a frame waits until every
/// other stream has shown its key, so memory stays small when the streams
/// are in the same order and grows with how far their orders differ. A key
/// that is missing from a stream, a key that appears twice, a frame without
/// a key, or (by order) streams of different lengths stop the run with a
/// one-line error that names the key and the streams.
public struct FrameMatcher {
    /// The streams' paths (`-` for standard input).
    public let paths: [String]
    public var byOrder: Bool

    public init(_ paths: [String], byOrder: Bool = false) {
        self.paths = paths
        self.byOrder = byOrder
    }

    /// How messages name a stream.
    public static func name(_ path: String) -> String { path == "-" ? "standard input" : path }

    /// Calls `read(stream, frame)` on every frame as it is read, turning it
    /// into an item (its error is reported as `path: frame N (key): message`),
    /// then `body(items, index)` with each matched tuple, one item per stream,
    /// and the index of the tuple's frame in the first stream.
    public func run<Item>(read: (Int, Frame) throws -> Item, _ body: ([Item], Int) throws -> Void) throws {
        let readers = try paths.map { try FrameReader(path: $0) }
        let names = paths.map(FrameMatcher.name)
        var counts = [Int](repeating: 0, count: paths.count)
        func next(_ s: Int) throws -> (key: String?, item: Item)? {
            guard let f = try readers[s].next() else { return nil }
            let index = counts[s]
            counts[s] += 1
            do { return (f.key, try read(s, f)) } catch let e as BSQError {
                throw BSQError("\(names[s]): \(f.label(index: index)): \(e.message)")
            }
        }

        if byOrder {
            var index = 0
            while true {
                let row = try (0..<paths.count).map { try next($0) }
                let present = row.map { $0 != nil }
                if present.allSatisfy({ !$0 }) { return }
                guard present.allSatisfy({ $0 }) else {
                    let short = present.firstIndex(of: false)!, long = present.firstIndex(of: true)!
                    throw BSQError("\(names[short]) ends after \(index) frame\(index == 1 ? "" : "s") but \(names[long]) has more")
                }
                try body(row.map { $0!.item }, index)
                index += 1
            }
        }

        var pending = [[String: (index: Int, item: Item)]](repeating: [:], count: paths.count)
        var seen = [Set<String>](repeating: [], count: paths.count)
        var open = [Bool](repeating: true, count: paths.count)
        while open.contains(true) {
            for s in paths.indices where open[s] {
                let index = counts[s]
                guard let (key, item) = try next(s) else { open[s] = false; continue }
                guard let key else {
                    throw BSQError("\(names[s]): frame \(index) has no key (match frames by position with --by-order)")
                }
                guard seen[s].insert(key).inserted else {
                    throw BSQError("\(names[s]): frame \(index) (\(key)): the key appears twice")
                }
                pending[s][key] = (index, item)
                if pending.allSatisfy({ $0[key] != nil }) {
                    let tuple = pending.map { $0[key]!.item }
                    let first = pending[0][key]!.index
                    for t in paths.indices { pending[t][key] = nil }
                    try body(tuple, first)
                }
            }
        }
        for s in paths.indices {
            guard let (key, _) = pending[s].min(by: { $0.value.index < $1.value.index }) else { continue }
            let missing = paths.indices.first { !seen[$0].contains(key) }!
            throw BSQError("\(key): in \(names[s]) but not in \(names[missing])")
        }
    }
}
