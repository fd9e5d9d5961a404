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

        // The one library: configuration, snapshot, codec, crypto, storage, catalog, commands.
        .target(
            name: "BackupKit",
            dependencies: [
                "CSQLite", "COpenSSL", "CZlib", "CCurl", "CDeflate", "CZstd", "CLinux",
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
