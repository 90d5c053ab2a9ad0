// swift-tools-version: 6.2
// Pulse Video: raw uploads in, adaptive HLS out, with live progress.
// Targets are split by what they depend on; dependencies point one way:
// PulseVideoCLI -> PulseService -> PulseAPI -> PulseJobs -> PulseDatabase, PulseMedia, PulseStorage -> SigV4.
// Every target a file imports is declared here, transitive ones included.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "pulse-video",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pulse-video", targets: ["PulseVideoCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.25.0"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.2.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
    ],
    targets: [
        // Small general helpers with no dependencies: hex, S3-style URI encoding, the failure codes.
        .target(name: "PulseSupport", swiftSettings: swiftSettings),
        // AWS Signature Version 4: header signing and query presigning. Needs swift-crypto only.
        .target(
            name: "SigV4",
            dependencies: ["PulseSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // ffprobe/ffmpeg: probe, ladder, thumbnail, single-decode HLS, progress.
        .target(
            name: "PulseMedia",
            dependencies: [
                "PulseSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Object storage: the S3 client (on AsyncHTTPClient) and the embedded local folder store.
        .target(
            name: "PulseStorage",
            dependencies: [
                "PulseSupport",
                "SigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Streaming file reads and writes without blocking the cooperative pool.
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                // gzip for playlists kept compressed (zlib; already built for the WebSocket stack).
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SQL layer: one `Database` API on SQLite (embedded) and PostgreSQL (scale-out), migrations.
        .target(
            name: "PulseDatabase",
            dependencies: [
                "PulseSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Durable jobs: queue, worker, events, the asset pipeline.
        .target(
            name: "PulseJobs",
            dependencies: [
                "PulseDatabase",
                "PulseMedia",
                "PulseStorage",
                "PulseSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP API, WebSocket events, playback and the upload page.
        .target(
            name: "PulseAPI",
            dependencies: [
                "PulseDatabase",
                "PulseJobs",
                "PulseMedia",
                "PulseStorage",
                "PulseSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // The events WebSocket: NIO's upgrader and frame codec, served without a task per socket.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                // Webhook delivery (and NIOPosix's thread pool for its DNS checks).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Signing keys: RSA key generation, and the verification of JWTs signed with them.
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                // Uploads stream to disk without blocking the cooperative pool.
                .product(name: "_NIOFileSystem", package: "swift-nio"),
            ],
            resources: [.copy("Page")],
            swiftSettings: swiftSettings
        ),
        // Settings and composition: every setting read once (each component's own struct, one
        // reader), and the one place a process (serve, worker, tests) is put together.
        .target(
            name: "PulseService",
            dependencies: [
                "PulseAPI",
                "PulseDatabase",
                "PulseJobs",
                "PulseMedia",
                "PulseStorage",
                "PulseSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "PulseVideoCLI",
            dependencies: [
                "PulseAPI",
                "PulseDatabase",
                "PulseJobs",
                "PulseMedia",
                "PulseService",
                "PulseStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the test targets share: service gating, media lookup, a logger, ManualClock, database
        // helpers and test-only queries. A library, so only test targets ever link it.
        .target(
            name: "PulseTestSupport",
            dependencies: [
                "PulseSupport",
                "PulseDatabase",
                "PulseJobs",
                "PulseMedia",
                "PulseStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SigV4Tests", dependencies: ["PulseSupport", "SigV4"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PulseMediaTests",
            dependencies: ["PulseMedia", "PulseTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PulseStorageTests",
            dependencies: [
                "PulseStorage", "PulseSupport", "PulseTestSupport", "SigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PulseJobsTests",
            dependencies: [
                "PulseDatabase", "PulseJobs", "PulseMedia", "PulseStorage", "PulseSupport", "PulseTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Real processes (pulse-video worker/submit/transcode) against PostgreSQL, moto and ffmpeg.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "PulseDatabase", "PulseJobs", "PulseStorage", "PulseMedia", "PulseTestSupport", "SigV4",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PulseAPITests",
            dependencies: [
                "PulseAPI",
                "PulseService",
                "PulseSupport",
                "PulseDatabase",
                "PulseJobs",
                "PulseMedia",
                "PulseStorage",
                "PulseTestSupport",
                "SigV4",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
