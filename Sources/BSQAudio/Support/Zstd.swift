import CZstd

/// zstd compression of whole payloads: one zstd frame each, with its
/// content size and its content checksum (XXH64, which decompression checks) recorded.
public enum Zstd {
    /// Compresses `bytes` into one zstd frame.
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32 = 3) throws -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        guard let cctx = ZSTD_createCCtx() else { throw BSQError("zstd: out of memory") }
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        let n = out.withUnsafeMutableBytes { o in
            ZSTD_compress2(cctx, o.baseAddress, bound, bytes.baseAddress, bytes.count)
        }
        if ZSTD_isError(n) != 0 { throw BSQError("zstd: \(String(cString: ZSTD_getErrorName(n)))") }
        out.removeSubrange(n...)
        return out
    }

    /// The largest a compressed payload of `size` bytes can be.
    public static func bound(_ size: Int) -> Int { ZSTD_compressBound(size) }

    /// Checks, from its header alone where it can, that `bytes` is one zstd
    /// frame of `expected` bytes of content.
    public static func check(_ bytes: UnsafeRawBufferPointer, expected: Int) -> BSQError? {
        let whole = ZSTD_findFrameCompressedSize(bytes.baseAddress, bytes.count)
        if ZSTD_isError(whole) != 0 || whole != bytes.count { return BSQError("payload is not one zstd frame") }
        let declared = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
        if declared == ZSTD_CONTENTSIZE_UNKNOWN {
            if case .failure(let e) = decompress(bytes, expected: expected) { return e }
            return nil
        }
        if declared != UInt64(expected) { return BSQError("zstd content of \(declared) bytes, expected \(expected)") }
        return nil
    }

    /// Decompresses one zstd frame that must hold exactly `expected` bytes.
    /// Returns nil (with a reason) when the payload is not that.
    public static func decompress(_ bytes: UnsafeRawBufferPointer, expected: Int) -> Result<[UInt8], BSQError> {
        let whole = ZSTD_findFrameCompressedSize(bytes.baseAddress, bytes.count)
        if ZSTD_isError(whole) != 0 || whole != bytes.count {
            return .failure(BSQError("payload is not one zstd frame"))
        }
        let declared = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
        if declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != UInt64(expected) {
            return .failure(BSQError("zstd content of \(declared) bytes, expected \(expected)"))
        }
        var out = [UInt8](repeating: 0, count: expected)
        let n = out.withUnsafeMutableBytes { o in
            ZSTD_decompress(o.baseAddress, expected, bytes.baseAddress, bytes.count)
        }
        if ZSTD_isError(n) != 0 {
            return .failure(BSQError("zstd: \(String(cString: ZSTD_getErrorName(n)))"))
        }
        if n != expected { return .failure(BSQError("zstd content of \(n) bytes, expected \(expected)")) }
        return .success(out)
    }
}
