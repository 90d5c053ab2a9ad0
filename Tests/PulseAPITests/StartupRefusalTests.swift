import AsyncHTTPClient
import Foundation
import PulseDatabase
import PulseJobs
import PulseTestSupport
import Testing

/// The built `pulse-video` started as an operator would, with one thing wrong each time: it must
/// refuse to start, say which thing and what is wrong with it, and end with its sysexits status,
/// before any worker runs. Needs the built binary (`swift build`).
@Suite("Start-up refusals: the operator is told what is wrong")
struct StartupRefusalTests {
    static let binary = EndToEndTests.binary
    static let enabled = TestServices.required || FileManager.default.isExecutableFile(atPath: binary)

    @Test("serve without ffmpeg and ffprobe in PATH exits 69 naming both and their settings", .enabled(if: enabled), .timeLimit(.minutes(1)))
    func toolsMissing() async throws {
        let scratch = try Scratch()
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = scratch.path + "/empty-bin"
        let (status, log) = try await Self.run(["serve", "--port", "0", "--data", scratch.path + "/data"], environment: environment, in: scratch)
        #expect(status == 69, "\(log)")
        #expect(log.contains("ffmpeg was not found in PATH") && log.contains("ffprobe was not found in PATH"), "\(log)")
        #expect(log.contains("PULSE_FFMPEG") && log.contains("PULSE_FFPROBE"), "\(log)")
        #expect(!log.contains("listening on") && !log.contains("worker started"), "\(log)")
    }

    @Test("/readyz answers 503 naming a tool that is gone while serve runs", .enabled(if: enabled), .timeLimit(.minutes(1)))
    func readinessNamesMissingTool() async throws {
        let scratch = try Scratch()
        let tools = scratch.path + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        for tool in ["ffmpeg", "ffprobe"] {
            try FileManager.default.createSymbolicLink(atPath: "\(tools)/\(tool)", withDestinationPath: try Self.locate(tool))
        }
        let serve = try ChildProcess(
            Self.binary, ["serve", "--port", "0", "--data", scratch.path + "/data", "--ffmpeg", tools + "/ffmpeg", "--ffprobe", tools + "/ffprobe"],
            environment: ProcessInfo.processInfo.environment, log: scratch.path + "/serve.log")
        defer { serve.stop() }
        let base = try await serve.waitForLine(containing: "pulse-video listening on", timeout: .seconds(30))
            .components(separatedBy: "listening on ").last!.trimmingCharacters(in: .whitespaces)

        let ready = try await Self.get(base + "/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        #expect(ready.body.contains("\"tools\":\"ok\""), "\(ready.body)")

        try FileManager.default.removeItem(atPath: tools + "/ffmpeg")
        let gone = try await Self.get(base + "/readyz")
        #expect(gone.status == 503, "\(gone.body)")
        #expect(gone.body.contains("\"unavailable\":[\"ffmpeg\"]") && gone.body.contains("\"tools\":\"missing\""), "\(gone.body)")
    }

    @Test("an unreachable PostgreSQL ends start-up after the deadline, exit 69, naming it without the password",
          .enabled(if: enabled), .timeLimit(.minutes(1)))
    func databaseUnreachable() async throws {
        let scratch = try Scratch()
        let port = try ListeningSocket().closingPort()
        var environment = ProcessInfo.processInfo.environment
        environment["PULSE_DATABASE_URL"] = "postgres://pulse:secret-pw@127.0.0.1:\(port)/pulse_db"
        let started = ContinuousClock.now
        let (status, log) = try await Self.run(
            ["serve", "--no-worker", "--port", "0", "--data", scratch.path + "/data", "--startup-timeout", "2"], environment: environment, in: scratch)
        #expect(status == 69, "\(log)")
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(log.contains("127.0.0.1:\(port)/pulse_db") && log.contains("did not answer within 2 s"), "\(log)")
        #expect(log.contains(" error "), "the give-up is logged at error: \(log)")
        #expect(!log.contains("secret-pw"), "\(log)")

        let (migrated, migrateLog) = try await Self.run(
            ["migrate", "--data", scratch.path + "/data", "--startup-timeout", "1"], environment: environment, in: scratch)
        #expect(migrated == 69 && migrateLog.contains("127.0.0.1:\(port)/pulse_db"), "\(migrateLog)")
    }

    @Test("a port in use ends serve with 71 naming the address, having started no worker and claimed no job",
          .enabled(if: enabled), .timeLimit(.minutes(1)))
    func portInUse() async throws {
        let scratch = try Scratch()
        let holder = try ListeningSocket()
        defer { holder.close() }
        // A job ready to claim: a worker that ran at all would lease it at once.
        let database = DatabaseURL.sqliteFile(path: scratch.path + "/data/pulse.sqlite")
        try FileManager.default.createDirectory(atPath: scratch.path + "/data", withIntermediateDirectories: true)
        let assetID = try await withDatabase(url: database, logger: TestServices.logger) { database in
            _ = try await migrate(database, logger: TestServices.logger)
            let asset = try await AssetRepository(database: database).create(NewAsset(status: .queued, filename: "clip.mp4", sourceKey: "uploads/clip.mp4"))
            try await JobQueue(database: database).enqueue(assetID: asset.id, kind: .prepare)
            return asset.id
        }

        let (status, log) = try await Self.run(
            ["serve", "--port", "\(holder.port)", "--data", scratch.path + "/data"], environment: ProcessInfo.processInfo.environment, in: scratch)
        #expect(status == 71, "\(log)")
        #expect(log.contains("cannot listen on 127.0.0.1:\(holder.port)") && log.contains("Address already in use"), "\(log)")
        #expect(!log.contains("errno"), "the system's reason in words, not NIO's error: \(log)")
        #expect(!log.contains("worker started") && !log.contains("reaper started"), "\(log)")
        let jobs = try await withDatabase(url: database, logger: TestServices.logger) { try await JobQueue(database: $0).jobs(assetID: assetID) }
        #expect(jobs.map(\.status) == [.queued] && jobs.map(\.attempts) == [0] && jobs.allSatisfy { $0.leaseOwner == nil }, "\(jobs)")
    }

    @Test("a data folder under a regular file ends start-up with 73 naming the path and the problem", .enabled(if: enabled), .timeLimit(.minutes(1)))
    func dataFolderUnusable() async throws {
        let scratch = try Scratch()
        let file = scratch.path + "/not-a-folder"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        let (status, log) = try await Self.run(["worker", "--data", file + "/data"], environment: ProcessInfo.processInfo.environment, in: scratch)
        #expect(status == 73, "\(log)")
        #expect(log.contains("\(file)/data") && log.contains("\(file) is a file, not a folder"), "\(log)")
        #expect(!log.contains("NSCocoaErrorDomain"), "\(log)")
    }

    @Test("a database file that cannot be opened ends start-up with 74 naming it and why", .enabled(if: enabled), .timeLimit(.minutes(1)))
    func databaseFileUnusable() async throws {
        let scratch = try Scratch()
        let database = scratch.path + "/pulse.sqlite"
        try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["PULSE_DATABASE_URL"] = "sqlite://" + database
        let (status, log) = try await Self.run(["worker", "--data", scratch.path + "/data"], environment: environment, in: scratch)
        #expect(status == 74, "\(log)")
        #expect(log.contains("\(database) is a folder, not a file"), "\(log)")
    }

    // MARK: - Helpers

    /// Runs the binary to its end (bounded); its status and combined output.
    static func run(_ arguments: [String], environment: [String: String], in scratch: Scratch) async throws -> (Int32, String) {
        let child = try ChildProcess(binary, arguments, environment: environment, log: scratch.path + "/\(arguments[0])-\(UUID().uuidString).log")
        defer { child.stop() }
        try await waitUntil("pulse-video \(arguments[0]) to exit", timeout: .seconds(45)) { child.exitStatus >= 0 }
        return (child.exitStatus, (try? String(contentsOfFile: child.logPath, encoding: .utf8)) ?? "")
    }

    static func get(_ url: String) async throws -> (status: UInt, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: body))
    }

    static func locate(_ tool: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let found = path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "\(tool) is not in PATH")
    }
}

/// A folder of its own under the temporary directory, removed when the test ends.
final class Scratch: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "pulse-startup-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A TCP socket of the test listening on 127.0.0.1 (a port that is taken), or, closed, a port
/// nothing listens on.
final class ListeningSocket: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(descriptor, raw, length) == 0 && listen(descriptor, 8) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
        guard bound else {
            _ = Glibc.close(descriptor)
            throw MissingPrerequisite(description: "could not listen on 127.0.0.1")
        }
    }

    /// Stops listening and gives the port, on which nothing listens now.
    func closingPort() -> Int {
        close()
        return port
    }

    func close() { _ = Glibc.close(descriptor) }
}
