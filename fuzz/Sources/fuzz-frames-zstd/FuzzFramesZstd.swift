import BSQAudio
import FuzzSupport

/// zstd-compressed frame payloads: the input is a small header choice (dtype
/// and dims from its first 3 bytes) and then the compressed payload, wrapped
/// here in a well-formed BSQT frame (flag zstd, right CRC) so that every input
/// reaches `FrameReader.verify` (one whole zstd frame of the declared size)
/// and `StoredFrame.decode` (decompression).
let input = MemFile(name: "bsq-fuzz-frames-zstd")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let dtype = DType.allCases[Int(data[0]) % DType.allCases.count]
    // dims [a, b]: element counts up to 4096 × 256, so frames up to 8 MiB uncompressed
    let a = Int(data[1]) << 4 | Int(data[2] >> 4), b = Int(data[2] & 0x0F) << 4 | 1
    let dims = [a, b]
    let payload = UnsafeRawBufferPointer(start: data + 3, count: size - 3)
    let meta = JSONObject(["kind": "mel", "key": "fuzz"])
    var frame = FrameWriter.header(dtype: dtype, dims: dims, meta: meta, zstd: true, payloadLength: payload.count)
    frame.append(contentsOf: payload)
    let crc = CRC32.checksum(frame)
    withUnsafeBytes(of: crc.littleEndian) { frame.append(contentsOf: $0) }
    input.set(frame)
    let reader = FrameReader(ByteSource(fd: input.fd, name: "fuzz"))
    do {
        guard let stored = try reader.nextStored() else { return 0 }
        let decoded = try stored.decode()
        exercise(decoded, stored: stored, index: 0)
    } catch {}
    return 0
}
