import BSQAudio
import FuzzSupport

/// Lines of tokens as `bsq-tensor from-text` reads them: the first byte
/// chooses the format (tsv or jsonl) and which of `--bits` (9 or 36),
/// `--freq-patches` (4) and `--frames` (100) are given; the rest is the text,
/// read line by line through `TextLines` and `TokenTextReader.frames`. Every
/// frame made is written back with `to-text` (jsonl) and read again: the same
/// frame must come back.
let file = MemFile(name: "bsq-fuzz-token-text")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let mode = data[0]
    var reader = TokenTextReader()
    reader.format = mode & 1 == 0 ? .tsv : .jsonl
    if mode & 2 != 0 { reader.bits = mode & 16 == 0 ? 9 : 36 }
    if mode & 4 != 0 { reader.freqPatches = 4 }
    if mode & 8 != 0 { reader.frames = 100 }
    file.set(UnsafeRawBufferPointer(start: data + 1, count: size - 1))
    guard let frames = try? reader.frames([file.path]) else { return 0 }
    var again = TokenTextReader()
    again.format = .jsonl
    for (i, f) in frames.enumerated() {
        exercise(f, stored: nil, index: i)
        guard let line = try? TokenText.line(f, index: i, format: .jsonl, coveredOnly: false) else {
            roundTrip(false, "frame \(i) from text does not go back to text")
            continue
        }
        let back = try? again.frame(ArraySlice(Array(line.utf8)))
        roundTrip(back?.payload == f.payload && back?.dims == f.dims, "frame \(i) does not read back from \(line.prefix(200))")
    }
    return 0
}
