// swift-tools-version:6.0
import PackageDescription

/// One small library shared by thin executables; each C library sits behind
/// one `.systemLibrary` target found with pkg-config. `BSQAudio` computes
/// (no argument parser, no exit, nothing on stderr); `BSQAudioCLI` is what
/// the tools share about being command-line tools.
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let tool: [Target.Dependency] = ["BSQAudio", "BSQAudioCLI", argumentParser]

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
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(
            name: "BSQAudio",
            dependencies: [
                "CSndFile", "CFFTW", "COpenBLAS", "CZstd", "CSoxr", "CDeflate", "CCrypto",
            ],
            resources: [.copy("Resources/bsq-audio-tiny18.safetensors"), .copy("Resources/bsq-audio-vocos-tiny.safetensors")]
        ),
        .target(name: "BSQAudioCLI", dependencies: ["BSQAudio", argumentParser]),
        // ONNX export: onnx-*.pb.swift are generated from docs/scripts/onnx/onnx-*.proto (generate.sh there)
        .target(name: "BSQONNX", dependencies: ["BSQAudio", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .executableTarget(name: "bsq-tensor", dependencies: tool),
        .executableTarget(name: "mel", dependencies: tool),
        .executableTarget(name: "bsq-encode", dependencies: tool),
        .executableTarget(name: "bsq-decode", dependencies: tool),
        // data-parallel training: only bsq-train links MPI
        .target(name: "BSQMPI", dependencies: ["BSQAudio", "CMPI"]),
        .executableTarget(name: "bsq-train", dependencies: tool + ["BSQONNX", "BSQMPI"]),
        .executableTarget(name: "specaug", dependencies: tool),
        .executableTarget(name: "spec-metrics", dependencies: tool),
        .executableTarget(name: "bsq-plot", dependencies: tool),
        .executableTarget(name: "mel2wav", dependencies: tool),
        .executableTarget(name: "wav-metrics", dependencies: tool),
        // make bench's SIMD table: the kernels of a native and of a PORTABLE build, side by side
        .executableTarget(name: "kernel-bench", dependencies: ["BSQAudio"], path: "bench/kernels"),
        .target(name: "TestSupport", dependencies: ["BSQAudio"], path: "Tests/TestSupport"),
        .testTarget(name: "BSQAudioTests", dependencies: ["BSQAudio", "TestSupport"]),
        .testTarget(name: "BSQAudioCLITests", dependencies: ["BSQAudio", "BSQAudioCLI", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["BSQAudio", "BSQONNX", "TestSupport", "bsq-tensor", "mel", "bsq-encode", "bsq-decode", "bsq-train",
                                                "specaug", "spec-metrics", "bsq-plot", "mel2wav", "wav-metrics"]),
    ]
)
