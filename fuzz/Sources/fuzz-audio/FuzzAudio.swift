import BSQAudio
import FuzzSupport

/// Audio file bytes decoded through libsndfile's virtual I/O, as `mel -`
/// decodes standard input: `AudioLoader.loadMono(.bytes(…))` opens them with
/// `SoundFile(bytes:name:)` (wav, flac, ogg/vorbis, opus, mp3, aiff, …), mixes
/// the channels down and resamples to 16 kHz with soxr.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? AudioLoader.loadMono(.bytes(bytes(data, size), name: "-"), sampleRate: 16000)
    return 0
}
