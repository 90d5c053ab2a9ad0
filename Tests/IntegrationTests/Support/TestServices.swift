import Foundation
import Logging
import Testing

/// The contract with `scripts/test-services.sh env`: PostgreSQL, a plain moto_server and the media
/// folders. Unset means the process tests are skipped, unless `PULSE_REQUIRE_SERVICES=1`, in which
/// case they run and fail on the first missing variable.
enum TestServices {
    static let environment = ProcessInfo.processInfo.environment
    static let required = environment["PULSE_REQUIRE_SERVICES"] == "1"

    static func value(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// PostgreSQL, moto and the generated clips: what every subprocess test needs.
    static let processTestsEnabled = required
        || (value("PULSE_TEST_POSTGRES_URL") != nil && value("PULSE_TEST_S3_ENDPOINT") != nil
            && value("PULSE_TEST_MEDIA_DIR") != nil)

    /// The real footage too (the transcode test).
    static let sharedMediaEnabled = processTestsEnabled && (required || value("PULSE_SHARED_MEDIA_DIR") != nil)

    /// The generated clips alone (the in-process throttle test on SQLite needs nothing else).
    static let mediaEnabled = required || value("PULSE_TEST_MEDIA_DIR") != nil

    static func require(_ name: String) throws -> String {
        try #require(value(name), "\(name) is not set (eval \"$(scripts/test-services.sh env)\")")
    }

    static var postgresURL: String { get throws { try require("PULSE_TEST_POSTGRES_URL") } }
    static var s3Endpoint: String { get throws { try require("PULSE_TEST_S3_ENDPOINT") } }
    static var mediaDirectory: String { get throws { try require("PULSE_TEST_MEDIA_DIR") } }
    static var sharedMediaDirectory: String { get throws { try require("PULSE_SHARED_MEDIA_DIR") } }

    static func media(_ name: String) throws -> String {
        let path = "\(try mediaDirectory)/\(name)"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run scripts/gen-test-media.sh")
        return path
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
