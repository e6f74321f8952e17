// swift-tools-version:6.0
import PackageDescription

/// One small library shared by thin executables; each C library sits behind
/// one `.systemLibrary` target found with pkg-config.
let package = Package(
    name: "bsq-audio",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "BSQAudio", targets: ["BSQAudio"]),
        .executable(name: "bsq-tensor", targets: ["bsq-tensor"]),
        .executable(name: "mel", targets: ["mel"]),
        .executable(name: "bsq-encode", targets: ["bsq-encode"]),
        .executable(name: "bsq-decode", targets: ["bsq-decode"]),
        .executable(name: "bsq-train", targets: ["bsq-train"]),
        .executable(name: "specaug", targets: ["specaug"]),
        .executable(name: "spec-metrics", targets: ["spec-metrics"]),
        .executable(name: "bsq-plot", targets: ["bsq-plot"]),
        .executable(name: "mel2wav", targets: ["mel2wav"]),
        .executable(name: "wav-metrics", targets: ["wav-metrics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        .target(
            name: "BSQAudio",
            dependencies: [
                "CSndFile", "CFFTW", "COpenBLAS", "CZstd", "CSoxr",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources/bsq-audio-tiny18.safetensors")]
        ),
        .executableTarget(name: "bsq-tensor", dependencies: ["BSQAudio"]),
        .executableTarget(name: "mel", dependencies: ["BSQAudio"]),
        .executableTarget(name: "bsq-encode", dependencies: ["BSQAudio"]),
        .executableTarget(name: "bsq-decode", dependencies: ["BSQAudio"]),
        .executableTarget(name: "bsq-train", dependencies: ["BSQAudio"]),
        .executableTarget(name: "specaug", dependencies: ["BSQAudio"]),
        .executableTarget(name: "spec-metrics", dependencies: ["BSQAudio"]),
        .executableTarget(name: "bsq-plot", dependencies: ["BSQAudio"]),
        .executableTarget(name: "mel2wav", dependencies: ["BSQAudio"]),
        .executableTarget(name: "wav-metrics", dependencies: ["BSQAudio"]),
        .target(name: "TestSupport", dependencies: ["BSQAudio"], path: "Tests/TestSupport"),
        .testTarget(name: "BSQAudioTests", dependencies: ["BSQAudio", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["BSQAudio", "TestSupport", "bsq-tensor", "mel", "bsq-encode", "bsq-decode", "bsq-train",
                                                "specaug", "spec-metrics", "bsq-plot", "mel2wav", "wav-metrics"]),
    ]
)
