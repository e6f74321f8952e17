import BSQAudio
import FuzzSupport

/// BSQT streams (bsqt(5)) through `FrameReader`, as every tool reads its input:
/// header fields, dims, JSON metadata, payload length, CRC and (zstd flag) the
/// compressed payload. A frame whose CRC is wrong is checked as read, then
/// again with its CRC corrected, so that the fuzzer gets past the checksum to
/// decompression, decoding and the readers of each kind of frame. Then the
/// same bytes are counted with `skipNext`, as `--shard` counts frames.
let input = MemFile(name: "bsq-fuzz-frames")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    input.set(UnsafeRawBufferPointer(start: data, count: size))
    let reader = FrameReader(ByteSource(fd: input.fd, name: "fuzz"))
    var index = 0
    while index < 64 {
        let stored: StoredFrame
        do {
            guard let s = try reader.nextUnverified() else { break }
            stored = s
        } catch {
            break
        }
        var fixed = stored
        var c = CRC32()
        c.update(stored.head)
        c.update(stored.payload)
        fixed.crc = c.value
        // the CRC computed piecewise while reading is the CRC of the whole frame
        precondition(stored.computedCRC == c.value, "CRC computed while reading differs from the whole frame's")
        _ = try? reader.verify(stored)
        do {
            try reader.verify(fixed)
            let frame = try fixed.decode()
            exercise(frame, stored: fixed, index: index)
        } catch {}
        index += 1
    }
    // the cheap count that --shard makes (headers read, payloads skipped) agrees with reading
    input.set(UnsafeRawBufferPointer(start: data, count: size))
    let counter = FrameReader(ByteSource(fd: input.fd, name: "fuzz"))
    var counted = 0
    while counted < 64, (try? counter.skipNext()) == true { counted += 1 }
    roundTrip(counted >= min(index, 64), "skipNext counted \(counted) frames where \(index) were read")
    return 0
}
