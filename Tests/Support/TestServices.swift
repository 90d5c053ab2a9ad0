import Foundation
import PulseSupport
public import Logging
import Testing

/// The contract with `scripts/test-services.sh env`, shared by every test target.
///
/// - Services (PostgreSQL, moto): `PULSE_TEST_POSTGRES_URL`, `PULSE_TEST_S3_ENDPOINT` (a plain
///   moto_server) and `PULSE_TEST_S3_AUTH_ENDPOINT` (moto with `INITIAL_NO_AUTH_ACTION_COUNT=0`).
///   Unset means the tests that need them are skipped (a local run without the services), unless
///   `PULSE_REQUIRE_SERVICES=1`: then they run and fail on the first missing variable.
/// - Media is not a service: see `TestMedia`.
/// - `PULSE_TEST_LOG_LEVEL` sets the level of `logger` (default `warning`).
public enum TestServices {
    public static let environment = ProcessInfo.processInfo.environment
    /// `PULSE_REQUIRE_SERVICES=1`: tests needing a service run, and fail when it is not configured.
    public static let required = environment["PULSE_REQUIRE_SERVICES"] == "1"

    /// A variable's value; nil when unset or empty.
    public static func value(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A variable's value; fails the test when it is unset or empty.
    public static func require(_ name: String) throws -> String {
        try #require(value(name), "\(name) is not set (eval \"$(scripts/test-services.sh env)\")")
    }

    /// Whether tests needing the service `variable` names run: when it is set, or when required.
    public static func shouldRun(_ variable: String) -> Bool {
        required || value(variable) != nil
    }

    /// `PULSE_TEST_POSTGRES_URL`, or nil when unset.
    public static let postgresURL = value("PULSE_TEST_POSTGRES_URL")
    /// `PULSE_TEST_S3_ENDPOINT` (plain moto), or nil when unset.
    public static let s3Endpoint = value("PULSE_TEST_S3_ENDPOINT")

    /// `PULSE_TEST_S3_ENDPOINT`; fails the test when unset.
    public static var plainEndpoint: String { get throws { try require("PULSE_TEST_S3_ENDPOINT") } }
    /// `PULSE_TEST_S3_AUTH_ENDPOINT`; fails the test when unset.
    public static var authEndpoint: String { get throws { try require("PULSE_TEST_S3_AUTH_ENDPOINT") } }

    /// PostgreSQL and moto: what every subprocess test needs besides the media.
    public static let processTestsEnabled = required || (postgresURL != nil && s3Endpoint != nil)

    /// Tests that need only ffmpeg and the generated media: always enabled (a missing clip fails).
    public static let mediaEnabled = true

    /// The package root, found from this source file (`Tests/Support/TestServices.swift`).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The logger tests hand to the code under test: `warning`, or `PULSE_TEST_LOG_LEVEL`.
    public static let logger: Logger = {
        var logger = Logger(label: "pulse-tests")
        logger.logLevel = value("PULSE_TEST_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()
}

/// The test media: the generated cases and the real footage (bigbuckbunny.mp4, bikes.mp4), all made
/// by `scripts/gen-test-media.sh` in `TestMedia/` (or `PULSE_TEST_MEDIA_DIR`). A missing file fails
/// the test that needs it, never skips it.
public enum TestMedia {
    /// `PULSE_TEST_MEDIA_DIR`, or `TestMedia/` in the package.
    public static var directory: String {
        TestServices.value("PULSE_TEST_MEDIA_DIR") ?? TestServices.packageRoot + "/TestMedia"
    }

    /// A test medium's path; fails the test when `scripts/gen-test-media.sh` has not made it.
    public static func path(_ name: String) throws -> String {
        let path = directory + "/" + name
        try #require(FileManager.default.fileExists(atPath: path), "missing \(path): run scripts/gen-test-media.sh")
        return path
    }
}

/// Runs `body`, failing with `TimeoutError` once `timeout` passes.
public func withTimeout<T: Sendable>(
    _ timeout: Duration,
    _ what: String = "the operation",
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withDeadline(timeout, orThrow: TimeoutError(timeout: timeout, what: what), body)
}

/// A bounded wait (`withTimeout`, `waitFor`) ran out of time.
public struct TimeoutError: Error, CustomStringConvertible {
    /// How long was waited.
    public let timeout: Duration
    /// What was waited for, as "the worker to start".
    public let what: String
    /// What helps to see why (a process's log); may be empty.
    public let context: String

    /// A timeout after `timeout` waiting for `what`, with `context` to show.
    public init(timeout: Duration, what: String, context: String = "") {
        self.timeout = timeout
        self.what = what
        self.context = context
    }

    public var description: String {
        "timed out after \(self.timeout): \(self.what)" + (self.context.isEmpty ? "" : "\n" + self.context)
    }
}
