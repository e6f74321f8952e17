// swift-tools-version:6.0
import PackageDescription

/// libFuzzer targets for the parsers of bsq-audio (`make fuzz`, `make fuzz-smoke`;
/// see fuzz/README.md). Build with
///   swift build -c release --package-path fuzz -Xswiftc -sanitize=fuzzer,address
/// Each executable defines `LLVMFuzzerTestOneInput`; `FuzzDriver` gives SwiftPM
/// the entry point it links (`MODULE_main`), which starts libFuzzer's driver.
let bsq: Target.Dependency = .product(name: "BSQAudio", package: "bsq-audio")
let targets = ["fuzz-frames", "fuzz-frames-zstd", "fuzz-metadata-config", "fuzz-safetensors", "fuzz-npy", "fuzz-audio", "fuzz-token-text"]

let package = Package(
    name: "bsq-audio-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "bsq-audio", path: "..")],
    targets: [.target(name: "FuzzSupport", dependencies: [bsq]), .target(name: "FuzzDriver")]
        + targets.map {
            .executableTarget(name: $0, dependencies: [bsq, "FuzzSupport", "FuzzDriver"],
                              swiftSettings: [.unsafeFlags(["-parse-as-library"])])
        }
        // writes the generated seeds (fuzz/make_corpus.sh); not a fuzz target
        + [.executableTarget(name: "fuzz-seeds", dependencies: [bsq])]
)
