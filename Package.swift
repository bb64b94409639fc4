// swift-tools-version:6.0
import PackageDescription

// OpenEXR's headers live under /usr/include/OpenEXR and /usr/include/Imath on Debian (libopenexr-dev).
let openEXRFlags: [CXXSetting] = [.unsafeFlags(["-I/usr/include/OpenEXR", "-I/usr/include/Imath"])]

// Targets depend one way: CLI -> Data/Model -> Numerics/EXRIO -> C shims.
let package = Package(
    name: "hdrpatch",
    products: [
        .executable(name: "hdrpatch", targets: ["hdrpatch"]),
        .library(name: "EXRIO", targets: ["EXRIO"]),
        .library(name: "Data", targets: ["Data"]),
        .library(name: "Model", targets: ["Model"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "COpenEXR",
            cxxSettings: openEXRFlags,
            linkerSettings: [
                .linkedLibrary("OpenEXR-3_1"), .linkedLibrary("OpenEXRCore-3_1"), .linkedLibrary("Iex-3_1"),
                .linkedLibrary("IlmThread-3_1"), .linkedLibrary("Imath-3_1"),
            ]
        ),
        .target(name: "EXRIO", dependencies: ["COpenEXR"]),
        .target(name: "Numerics"),
        .target(name: "Model", dependencies: ["Numerics"]),
        .target(name: "Data", dependencies: ["EXRIO", "Numerics", "Yams"]),
        .executableTarget(
            name: "hdrpatch",
            dependencies: ["EXRIO", "Data", "Model", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "EXRIOTests", dependencies: ["EXRIO", "TestSupport"]),
        .testTarget(name: "NumericsTests", dependencies: ["Numerics"]),
        .testTarget(name: "ModelTests", dependencies: ["Model"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "TestSupport"]),
        .testTarget(name: "HDRPatchCLITests", dependencies: ["hdrpatch", "EXRIO", "Data", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
