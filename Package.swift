// swift-tools-version:6.0
import PackageDescription

// OpenEXR's headers live under /usr/include/OpenEXR and /usr/include/Imath on Debian (libopenexr-dev).
let openEXRFlags: [CXXSetting] = [.unsafeFlags(["-I/usr/include/OpenEXR", "-I/usr/include/Imath"])]

let package = Package(
    name: "hdrpatch",
    products: [
        .executable(name: "hdrpatch", targets: ["hdrpatch"]),
        .library(name: "EXRIO", targets: ["EXRIO"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "hdrpatch",
            dependencies: ["EXRIO", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "EXRIOTests", dependencies: ["EXRIO"]),
        .testTarget(name: "HDRPatchCLITests", dependencies: ["hdrpatch", "EXRIO"]),
    ],
    cxxLanguageStandard: .cxx17
)
