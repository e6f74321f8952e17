import CCrypto
import Foundation

/// SHA-256 (FIPS 180-4), for naming the checkpoint that made a stream of
/// codes: OpenSSL's libcrypto (EVP), which uses the SHA extensions or AVX2
/// of the CPU it runs on (about 2 GB/s with SHA-NI, against 0.3 GB/s for
/// the kit's former Swift code).
public final class SHA256 {
    private let context: OpaquePointer

    /// libcrypto without its exit-time cleanup, so that a digest still running
    /// on a background thread (`BackgroundDigest`) when the process exits is
    /// not freed under its feet.
    private static let initialized: Bool = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil) == 1

    public init() {
        precondition(SHA256.initialized, "libcrypto: cannot initialise")
        guard let c = EVP_MD_CTX_new(), EVP_DigestInit_ex(c, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto: cannot start a SHA-256 digest")   // only out of memory
        }
        context = c
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The 32-byte digest; the digest cannot be updated afterwards.
    public func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }

    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let s = SHA256()
        s.update(bytes)
        return s.finishHex()
    }

    /// The digest as 64 lowercase hex digits.
    public func finishHex() -> String { finish().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

/// The SHA-256 of bytes that stay mapped (a checkpoint file): the one
/// `DigestCache` remembers for the file's identity, else computed on a thread
/// of its own from the moment it is made, so that loading a model does not
/// wait for it; `hex` waits only when the digest is needed (the codes'
/// `model.sha256`, written after the first chunk is computed), and remembers it.
public final class BackgroundDigest: @unchecked Sendable {
    /// What the thread and the owner share: the result, and a request to stop.
    private final class State: @unchecked Sendable {
        var result = ""         // written by the thread before it ends, read after the join
        private var stop = false
        private let lock = NSLockLite()
        var cancelled: Bool {
            get { lock.sync { stop } }
            set { lock.sync { stop = newValue } }
        }
    }
    private let state = State()
    private var thread: WorkerThread?
    private let identity: String
    private let lock = NSLockLite()

    /// `bytes` must stay valid while `owner` lives (the mapping they belong
    /// to, kept alive by the digest's thread until it ends). The thread stops
    /// and is joined when the digest goes away, so it never reads a mapping
    /// whose file has been changed since (a file truncated under a mapping is
    /// a SIGBUS; the safetensors fuzzer, rewriting one file, found that).
    init(_ bytes: UnsafeRawBufferPointer, owner: AnyObject & Sendable, identity: String) {
        self.identity = identity
        if let known = DigestCache.lookup(identity) {
            state.result = known
            return
        }
        nonisolated(unsafe) let b = bytes
        let state = state
        thread = WorkerThread { [owner] in
            withExtendedLifetime(owner) {
                let h = SHA256(), piece = 8 << 20
                var at = 0
                while at < b.count {
                    if state.cancelled { return }
                    let n = min(piece, b.count - at)
                    h.update(UnsafeRawBufferPointer(rebasing: b[at..<(at + n)]))
                    at += n
                }
                state.result = h.finishHex()
            }
        }
    }

    deinit {
        state.cancelled = true
        thread?.join()
    }

    public var hex: String {
        lock.sync {
            if let t = thread {
                t.join()
                thread = nil
                DigestCache.store(state.result, for: identity)
            }
            return state.result
        }
    }
}

/// Digests of checkpoint files remembered between runs, one small file per
/// file identity (`MappedFile.identity`) in `$XDG_CACHE_HOME/bsq-audio/sha256`
/// (default `~/.cache/bsq-audio/sha256`; `BSQ_CACHE=off`: none). Any change to
/// a checkpoint changes its identity, so a stale digest is never found; a
/// cache that cannot be read or written only means hashing again.
public enum DigestCache {
    static var directory: String? {
        let env = ProcessInfo.processInfo.environment
        if env["BSQ_CACHE"] == "off" { return nil }
        if let x = env["XDG_CACHE_HOME"], x.hasPrefix("/") { return x + "/bsq-audio/sha256" }
        if let h = env["HOME"], h.hasPrefix("/") { return h + "/.cache/bsq-audio/sha256" }
        return nil
    }

    static func lookup(_ identity: String) -> String? {
        guard let d = directory, let f = fopen(d + "/" + identity, "r") else { return nil }
        defer { fclose(f) }
        var buf = [UInt8](repeating: 0, count: 65)
        guard fread(&buf, 1, 65, f) == 64 else { return nil }
        let hex = String(decoding: buf[0..<64], as: UTF8.self)
        return hex.allSatisfy(\.isHexDigit) && hex == hex.lowercased() ? hex : nil
    }

    static func store(_ hex: String, for identity: String) {
        guard hex.count == 64, let d = directory else { return }
        guard (try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)) != nil,
              let f = try? AtomicFile(path: d + "/" + identity) else { return }
        if (try? f.write(Array(hex.utf8))) == nil || (try? f.commit()) == nil { f.discard() }
    }
}
