import Foundation
import Logging
import Testing

/// The contract with `scripts/test-services.sh env`: PostgreSQL and a plain moto_server. Unset means
/// the process tests are skipped (a local run without the services), unless
/// `PULSE_REQUIRE_SERVICES=1`, in which case they run and fail on the first missing variable. The
/// media is not a service: it comes from `scripts/gen-test-media.sh` (`TestMedia/`, or
/// `PULSE_TEST_MEDIA_DIR`), and a missing file fails the test that needs it, never skips it.
enum TestServices {
    static let environment = ProcessInfo.processInfo.environment
    static let required = environment["PULSE_REQUIRE_SERVICES"] == "1"

    static func value(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// PostgreSQL and moto: what every subprocess test needs besides the media.
    static let processTestsEnabled = required
        || (value("PULSE_TEST_POSTGRES_URL") != nil && value("PULSE_TEST_S3_ENDPOINT") != nil)

    /// The in-process throttle test on SQLite needs only ffmpeg (it makes its clip): never skipped.
    static let mediaEnabled = true

    static func require(_ name: String) throws -> String {
        try #require(value(name), "\(name) is not set (eval \"$(scripts/test-services.sh env)\")")
    }

    static var postgresURL: String { get throws { try require("PULSE_TEST_POSTGRES_URL") } }
    static var s3Endpoint: String { get throws { try require("PULSE_TEST_S3_ENDPOINT") } }
    /// `PULSE_TEST_MEDIA_DIR`, or `TestMedia/` in the package, as `scripts/gen-test-media.sh` writes it.
    static var mediaDirectory: String { value("PULSE_TEST_MEDIA_DIR") ?? packageRoot + "/TestMedia" }

    static func media(_ name: String) throws -> String {
        try requireMedia(name)
        return "\(mediaDirectory)/\(name)"
    }

    private static func requireMedia(_ name: String) throws {
        let path = "\(mediaDirectory)/\(name)"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run scripts/gen-test-media.sh")
    }

    static let logger: Logger = {
        var logger = Logger(label: "pulse-integration-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// `.build/<triple>/debug`: the folder of this test binary, where SwiftPM also put `pulse-video`.
    static let buildDirectory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()

    static var pulseVideo: String {
        get throws {
            let path = buildDirectory + "/pulse-video"
            try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run swift build --build-tests")
            return path
        }
    }

    /// The package root (for `scripts/testing/`), found from this source file.
    static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var proxyScript: String { packageRoot + "/scripts/testing/tcp_proxy.py" }
}

/// A name no other test or run uses: hex digits only, so it is a valid schema and bucket name part.
func uniqueName() -> String {
    String(UInt64.random(in: 0...UInt64.max), radix: 16)
}
