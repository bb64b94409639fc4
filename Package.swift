// swift-tools-version:6.0
import PackageDescription

// OpenEXR's headers live under /usr/include/OpenEXR and /usr/include/Imath on Debian (libopenexr-dev).
let openEXRFlags: [CXXSetting] = [.unsafeFlags(["-I/usr/include/OpenEXR", "-I/usr/include/Imath"])]

// Targets depend one way: CLI (hdrpatch) -> Ablation -> Reports -> RunFiles -> EXRIO/Config; CLI -> Training ->
// Model -> Losses, Training -> Data, RunFiles; below them Numerics/EXRIO/Config -> the C targets (CBLAS, CKernels,
// COpenEXR, CPNG). Reports and Ablation read run directories and never the engine. Every target declares each module
// it imports.
let package = Package(
    name: "hdrpatch",
    products: [
        .executable(name: "hdrpatch", targets: ["hdrpatch"]),
        // The one library with an API for other packages: reading and writing EXR (HDRImage, ImageReader, EXRWriter).
        // Every other target declares what it shares with `package`, not `public`: the engine, configs, run files
        // and reports are this package's own, free to change with it.
        .library(name: "EXRIO", targets: ["EXRIO"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0")
    ],
    targets: [
        .target(
            name: "COpenEXR",
            cxxSettings: openEXRFlags,
            linkerSettings: [
                .linkedLibrary("OpenEXR-3_1"), .linkedLibrary("OpenEXRCore-3_1"), .linkedLibrary("Iex-3_1"),
                .linkedLibrary("IlmThread-3_1"), .linkedLibrary("Imath-3_1")
            ]
        ),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // PNG for the pictures in reports: libpng's simplified write API, nothing hand-encoded.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "EXRIO", dependencies: ["COpenEXR", "CPNG"]),
        .target(name: "Config", dependencies: ["Yams"]),
        // The convolution kernels are hot loops: optimised in debug builds too, so tests run at speed.
        // libmvec (glibc's vector math, in libc6-dev): vmath.c's element-wise maps.
        .target(
            name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-omit-frame-pointer"])],
            linkerSettings: [.linkedLibrary("mvec", .when(platforms: [.linux]))]),
        .target(name: "Numerics", dependencies: ["CBLAS", "CKernels"]),
        // Open MPI for data-parallel training, loaded at run time (dlopen) only under mpirun: see hp_mpi.c.
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "Cluster", dependencies: ["CMPI"]),
        // Model builds LossInputs from a forward pass (PatchModel, Reconstruction): the losses do not know the model.
        .target(name: "Model", dependencies: ["Numerics", "Config", "Losses"]),
        .target(name: "Losses", dependencies: ["Numerics", "Config"]),
        .target(name: "Data", dependencies: ["EXRIO", "Numerics", "Config"]),
        // The run directory's files (records, JSONL, incidents CSV, TensorBoard, file names, the safetensors container):
        // no engine inside.
        .target(name: "RunFiles", dependencies: ["EXRIO", "Config"]),
        .target(
            name: "Training",
            dependencies: ["Model", "Losses", "Data", "Numerics", "Config", "EXRIO", "RunFiles", "Cluster", "Yams"]),
        .target(name: "Reports", dependencies: ["RunFiles", "Config", "EXRIO"]),
        // ONNX's protobuf messages, generated from Debian libonnx-dev's onnx.proto by tools/onnx/regenerate_proto.sh.
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The restore pipeline as an ONNX graph (hdrpatch export).
        .target(
            name: "ModelExport",
            dependencies: [
                "Model", "Numerics", "EXRIO", "ONNXProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ]),
        // The ablation in one place: the plan and its claims, the scheduler of its runs, the comparison.
        .target(name: "Ablation", dependencies: ["Config", "RunFiles", "Reports"]),
        .executableTarget(
            name: "hdrpatch",
            dependencies: [
                "CBLAS", "EXRIO", "Config", "Data", "Model", "Losses", "Numerics", "RunFiles", "Training", "Reports",
                "Ablation", "Cluster", "ModelExport", "CKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "EXRIOTests", dependencies: ["EXRIO", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "NumericsTests", dependencies: ["Numerics", "CBLAS", "CKernels"]),
        .testTarget(name: "LossesTests", dependencies: ["Losses", "Model", "Config", "Numerics", "TestSupport"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "Model", "Losses", "Numerics", "Config", "Data", "EXRIO", "RunFiles", "TestSupport"
            ]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Losses", "Config", "Numerics", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Config", "EXRIO", "Numerics", "TestSupport"]),
        .testTarget(name: "RunFilesTests", dependencies: ["RunFiles", "EXRIO", "Config", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "RunFiles", "TestSupport"]),
        .testTarget(name: "AblationTests", dependencies: ["Ablation", "Reports", "RunFiles", "Config", "TestSupport"]),
        .testTarget(
            name: "HDRPatchCLITests",
            dependencies: ["hdrpatch", "EXRIO", "Config", "Data", "RunFiles", "Training", "Model", "TestSupport"])
    ],
    cxxLanguageStandard: .cxx17
)
