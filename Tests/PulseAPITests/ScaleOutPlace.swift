import Foundation
import PulseDatabase
import PulseTestSupport
import Testing

/// Where a test runs `pulse-video` processes on the scale-out parts (PostgreSQL and moto): the
/// prerequisites checked, a bucket, a schema of its own, a scratch folder, and the processes'
/// environment on them. Moto's credentials; no PULSE_ALLOW_HTTP (the configured http:// endpoint
/// is enough, in every command); no PULSE_PUBLIC_MEDIA_URL (moto refuses anonymous GETs, as a
/// private bucket does, so playlists go through the service's /media/ proxy); 1 s segments and
/// chunks, so a short clip is the first rendition, the lead-in and several chunks.
struct ScaleOutPlace {
    let s3: String
    let bucket: String
    let scratch: String
    let apiKey: String
    /// Unique to this place (bucket, schema, key).
    let suffix: String
    let environment: [String: String]

    /// Runs `body` in a new place named `name` (a lowercase word); its scratch folder and schema
    /// are removed afterwards.
    static func with<T>(_ name: String, _ body: (ScaleOutPlace) async throws -> T) async throws -> T {
        guard let postgres = TestServices.postgresURL, let s3 = TestServices.s3Endpoint else {
            throw MissingPrerequisite(description: "PULSE_REQUIRE_SERVICES=1 but PULSE_TEST_POSTGRES_URL or PULSE_TEST_S3_ENDPOINT is not set")
        }
        guard FileManager.default.isExecutableFile(atPath: EndToEndTests.binary) else {
            throw MissingPrerequisite(description: "\(EndToEndTests.binary) is missing: swift build --product pulse-video")
        }
        let suffix = String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
        let bucket = "pulse-\(name)-\(suffix)"
        let schema = "\(name)_\(suffix)"
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-\(name)-\(suffix)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // Buckets are provisioned outside Pulse; moto takes an unsigned PUT.
        let made = try await send(.PUT, "\(s3)/\(bucket)")
        try #require(made.status == 200, "create bucket: \(made.text)")

        let apiKey = "\(name)-key-\(suffix)"
        var environment = ProcessInfo.processInfo.environment
        environment["PULSE_DATABASE_URL"] = "\(postgres)?schema=\(schema)"
        environment["PULSE_STORAGE_URL"] = "s3://\(bucket)/media"
        environment["AWS_ENDPOINT_URL_S3"] = s3
        environment["AWS_ACCESS_KEY_ID"] = "test"
        environment["AWS_SECRET_ACCESS_KEY"] = "test"
        environment["AWS_REGION"] = "us-east-1"
        environment["PULSE_ALLOW_HTTP"] = nil
        environment["PULSE_PUBLIC_MEDIA_URL"] = nil
        environment["PULSE_API_KEY"] = apiKey
        environment["PULSE_SEGMENT_SECONDS"] = "1"
        environment["PULSE_CHUNK_SECONDS"] = "1"
        let place = ScaleOutPlace(s3: s3, bucket: bucket, scratch: scratch, apiKey: apiKey, suffix: suffix, environment: environment)
        let result: T
        do {
            result = try await body(place)
        } catch {
            try? await dropSchema(schema, postgres)
            throw error
        }
        try await dropSchema(schema, postgres)
        return result
    }

    private static func dropSchema(_ schema: String, _ postgres: String) async throws {
        try await withDatabase(url: postgres, logger: TestServices.logger) { database in
            // The name was generated above from a word and hex digits: a plain identifier.
            _ = try await database.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE", [])
        }
    }
}
