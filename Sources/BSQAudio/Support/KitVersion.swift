import COpenBLAS
import CSndFile
import CSoxr
import CZstd
import Foundation

/// What `--version` prints: the kit's version, the default model and
/// vocoder it would use, and the versions of the C libraries it runs on.
public enum KitVersion {
    public static let number = "0.2.0"

    public static func text(tool: String) -> String {
        func found(_ path: () throws -> String, _ name: String) -> String {
            (try? path()).map { "\(name) (\($0))" } ?? "\(name) (not installed)"
        }
        // fftwf_version is a char array of unknown size, which Swift does not import: found by name
        let fftw = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fftwf_version").map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "FFTW"
        let libraries = [String(cString: sf_version_string()), fftw, String(cString: openblas_get_config()),
                         "zstd " + String(cString: ZSTD_versionString()), String(cString: soxr_version())]
        return """
            \(tool) (bsq-audio) \(number)
            default model: \(found(DefaultModel.path, DefaultModel.fileName))
            default vocoder: \(found(DefaultModel.vocoderPath, NeuralVocoder.defaultFileName))
            libraries: \(libraries.joined(separator: ", "))
            """
    }
}
