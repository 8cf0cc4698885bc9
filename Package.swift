// swift-tools-version:6.0
import PackageDescription

// Hot numeric code needs the target CPU's vector units: without them `addingProduct` on SIMD types
// lowers to calls to `fmaf()` and the kernels run ~100x slower. On x86-64 we compile for the CPU that builds
// (`native`, as llama.cpp's default build does): every command here builds and runs on the same machine, and a
// machine with AVX-512 VNNI (Zen 4) then gets `vpdpwssd` / `vpdpbusd` in place of the integer kernels'
// multiply-add + add pairs, which LLVM fuses by itself (bench/RESULTS.md: full-logit scoring ~20% faster than
// the `haswell` build on this host). The code needs at least AVX2+FMA+F16C (Haswell, any Zen); a binary built
// on a newer CPU may not run on an older one. On other architectures we keep only -Ounchecked.
// The CPU flag applies in debug builds too: code that inlines CPUIntrinsics' AVX2 builtins (Kernels, its tests)
// cannot be compiled for a CPU without them.
#if arch(x86_64)
let cpuFlags: [String] = ["-target-cpu", "native"]
#else
let cpuFlags: [String] = []
#endif
let hot: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release)), .unsafeFlags(cpuFlags)]

let package = Package(
    name: "Hyperlab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hyperlab", targets: ["hyperlab"]),
        .library(name: "Hyperlab", targets: ["GGUF", "Kernels", "Tokenization", "ChatTemplate", "Transformer", "Scenarios",
                                            "Corpora", "Backends", "Experiments", "Training", "Trainer", "Analysis",
                                            "Pipeline", "Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        .target(name: "GGUF", swiftSettings: hot),
        // `-parse-stdlib` (in every configuration) lets this one small module reach LLVM's x86 intrinsics.
        .target(name: "CPUIntrinsics", swiftSettings: [.unsafeFlags(["-parse-stdlib"])] + hot),
        .target(name: "Kernels", dependencies: ["GGUF", "CPUIntrinsics"], swiftSettings: hot),
        .target(name: "Tokenization", dependencies: ["GGUF"], swiftSettings: hot),
        .target(name: "ChatTemplate"),
        .target(name: "Transformer", dependencies: ["Kernels", "GGUF", "Tokenization", "ChatTemplate", "Random"], swiftSettings: hot),
        .target(name: "Random", swiftSettings: hot),
        .target(name: "Scenarios", dependencies: ["Random"]),
        .target(name: "Corpora", dependencies: ["Random", .product(name: "TOMLKit", package: "TOMLKit")], swiftSettings: hot),
        .target(name: "Backends", dependencies: ["Transformer", "ChatTemplate"]),
        .target(name: "Experiments", dependencies: ["Backends", "Scenarios", "Corpora", "ChatTemplate",
                                                    .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Training", dependencies: ["Transformer", "Kernels", "GGUF", "Tokenization", "Random"], swiftSettings: hot),
        .target(name: "Trainer", dependencies: ["Training", "Transformer", "Tokenization", "ChatTemplate", "Kernels", "GGUF", "Corpora",
                                                .product(name: "TOMLKit", package: "TOMLKit")], swiftSettings: hot),
        .target(name: "Analysis", dependencies: ["Random"]),
        .target(name: "Pipeline", dependencies: ["Experiments", "Corpora", "Scenarios", "Backends", "Transformer",
                                                 "Tokenization", "Training", "Trainer", "Analysis",
                                                 .product(name: "TOMLKit", package: "TOMLKit")]),
        .target(name: "Server", dependencies: ["Transformer", "Tokenization", "ChatTemplate",
                                               .product(name: "Hummingbird", package: "hummingbird"),
                                               .product(name: "Prometheus", package: "swift-prometheus"),
                                               .product(name: "Logging", package: "swift-log"),
                                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                swiftSettings: hot),
        .executableTarget(
            name: "hyperlab",
            dependencies: ["GGUF", "Transformer", "ChatTemplate", "Backends", "Scenarios", "Corpora", "Experiments",
                           "Training", "Trainer", "Analysis", "Pipeline", "Server",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: hot),
        .executableTarget(name: "train-bench", dependencies: ["Training", "Trainer", "Transformer", "Kernels", "GGUF"],
                          path: "bench/train", swiftSettings: hot),
        .executableTarget(name: "kernels-bench", dependencies: ["Kernels", "GGUF", "CPUIntrinsics"], path: "bench/kernels", swiftSettings: hot),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"], exclude: ["make_reference.py"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "GGUF", "CPUIntrinsics"], swiftSettings: [.unsafeFlags(cpuFlags)]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "GGUF"]),
        .testTarget(name: "ChatTemplateTests", dependencies: ["ChatTemplate"], exclude: ["make_expected.py", "Fixtures"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "GGUF"]),
        .testTarget(name: "ScenariosTests", dependencies: ["Scenarios"], exclude: ["Fixtures"]),
        .testTarget(name: "CorporaTests", dependencies: ["Corpora", "Scenarios"]),
        .testTarget(name: "BackendsTests", dependencies: ["Backends", "Transformer", "ChatTemplate"], exclude: ["fake_openai.py"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Backends", "Scenarios", "ChatTemplate", "Corpora",
                                                            "Tokenization"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Transformer", "Kernels", "GGUF"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "Training", "Transformer", "Tokenization", "ChatTemplate", "GGUF",
                                                         "Kernels", "Corpora"], exclude: ["export_llama_logits.py"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Experiments", "Corpora", "Scenarios", "Backends", "Analysis"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Backends", "Transformer", "ChatTemplate",
                                                        .product(name: "Hummingbird", package: "hummingbird"),
                                                        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                                        .product(name: "Logging", package: "swift-log")],
                    exclude: ["clients.py", "inspect_task.py"]),
    ],
    swiftLanguageModes: [.v5]
)
