// swift-tools-version:6.0
import PackageDescription

// Hot numeric code needs the target CPU's vector units: without them `addingProduct` on SIMD types
// lowers to calls to `fmaf()` and the kernels run ~100x slower. x86-64-v3 is the portable AVX2+FMA
// baseline (Haswell, Zen 1 and later); on other architectures we keep only -Ounchecked.
#if arch(x86_64)
let hotFlags: [String] = ["-Ounchecked", "-target-cpu", "x86-64-v3", "-Xcc", "-march=x86-64-v3"]
#else
let hotFlags: [String] = ["-Ounchecked"]
#endif
let hot: [SwiftSetting] = [.unsafeFlags(hotFlags, .when(configuration: .release))]

let package = Package(
    name: "Hyperlab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hyperlab", targets: ["hyperlab"]),
        .library(name: "Hyperlab", targets: ["Kernels", "GGUF", "Tokenization", "Transformer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "Kernels", swiftSettings: hot),
        .target(name: "GGUF", swiftSettings: hot),
        .target(name: "Tokenization", dependencies: ["GGUF"], swiftSettings: hot),
        .target(name: "Transformer", dependencies: ["Kernels", "GGUF", "Tokenization"], swiftSettings: hot),
        .executableTarget(
            name: "hyperlab",
            dependencies: ["Transformer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: hot),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "GGUF"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer"]),
    ],
    swiftLanguageModes: [.v5]
)
