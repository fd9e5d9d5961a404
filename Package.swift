// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "sqlite-s3-backup",
    products: [
        .executable(name: "backup", targets: ["backup"]),
        .executable(name: "restore", targets: ["restore"]),
        .executable(name: "clean-backup", targets: ["clean-backup"]),
        .library(name: "BackupKit", targets: ["BackupKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, each behind a tiny module map.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CDeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLinux"),
        // Keyed BLAKE3 for block ids: Debian has no C library of it, so 1.8.6 is vendored
        // (upstream/VENDORED.md), with a shim that hashes many blocks in SIMD lanes at once.
        .target(
            name: "CBlake3",
            exclude: ["upstream/LICENSE_CC0", "upstream/LICENSE_A2", "upstream/VENDORED.md"],
            cSettings: [.define("BLAKE3_USE_NEON", to: "0")]
        ),

        // The one library: configuration, snapshot, codec, crypto, storage, catalog, commands.
        .target(
            name: "BackupKit",
            dependencies: [
                "CSQLite", "COpenSSL", "CZlib", "CCurl", "CDeflate", "CZstd", "CLinux", "CBlake3",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Failpoints (fault injection for the crash tests) exist in debug builds only.
            swiftSettings: [.define("FAILPOINTS", .when(configuration: .debug))]
        ),

        // Three thin executables.
        .executableTarget(name: "backup", dependencies: ["BackupKit"]),
        .executableTarget(name: "restore", dependencies: ["BackupKit"]),
        .executableTarget(name: "clean-backup", dependencies: ["BackupKit"]),

        // `swift package manual-pages`: the three man pages, rendered from the built executables' help.
        .plugin(
            name: "ManualPages",
            capability: .command(intent: .custom(verb: "manual-pages",
                                                 description: "Write backup.1, restore.1 and clean-backup.1 from the executables' help"))
        ),

        .testTarget(
            name: "BackupKitTests",
            dependencies: ["BackupKit", "backup", "restore", "clean-backup"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
