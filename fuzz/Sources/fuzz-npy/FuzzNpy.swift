import BSQAudio
import FuzzSupport

/// `.npy` files (versions 1, 2, 3) through `Npy.decode`, as `bsq-tensor from-npy`
/// reads them, then the frame made of them as the tools use it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let frame = try? Npy.decode(bytes(data, size), name: "fuzz.npy") else { return 0 }
    exercise(frame, stored: nil, index: 0)
    return 0
}
