import Foundation
import Logging
import PulseDatabase
import PulseJobs
import PulseStorage
import PulseTestSupport
import SigV4
import Synchronization
import Testing

/// Everything one process test owns: a PostgreSQL schema, a moto bucket, temporary folders
/// (data, scratch, logs) and the processes it started, all removed or killed when it ends. Its
/// `place` (reached as `fixture.assets`, `fixture.queue`, ...) is the schema and the bucket, read
/// and written straight at moto (never through a test's proxy).
@dynamicMemberLookup
final class Fixture: Sendable {
    let root: String
    let dataDirectory: String
    let workDirectory: String
    let logDirectory: String
    let schema: String
    let bucket: String
    let databaseURL: String
    /// moto itself; workers may be pointed at a proxy in front of it instead.
    let motoEndpoint: String
    let place: TestPlace
    private let children = Mutex<[ChildProcess]>([])

    fileprivate init(root: String, schema: String, bucket: String, databaseURL: String, motoEndpoint: String, database: any Database) throws {
        self.root = root
        self.dataDirectory = root + "/data"
        self.workDirectory = root + "/work"
        self.logDirectory = root + "/logs"
        self.schema = schema
        self.bucket = bucket
        self.databaseURL = databaseURL
        self.motoEndpoint = motoEndpoint
        let store = try makeObjectStore(url: .s3(bucket: bucket, prefix: ""), s3: Self.s3Configuration(endpoint: motoEndpoint), logger: TestServices.logger)
        self.place = TestPlace(database: database, store: store)
    }

    subscript<T>(dynamicMember path: KeyPath<TestPlace, T>) -> T { place[keyPath: path] }

    /// Whether no statement of the service processes is running in the database: none of their
    /// connections (named by the schema, as ours are; ours that asks excepted) is active. A
    /// connection idle inside a transaction counts as settled: what it wrote is not visible and
    /// never will be if its process is killed. Read twice, 50 ms apart, so that a statement
    /// already on its way to the server is seen arriving.
    func databaseIdle() async throws -> Bool {
        for round in 0..<2 {
            if round > 0 { try await Task.sleep(for: .milliseconds(50)) }
            let busy = try await place.database.queryFirst(
                """
                SELECT COUNT(*) AS n FROM pg_stat_activity
                WHERE application_name = $1 AND pid <> pg_backend_pid() AND state = 'active'
                """,
                [.text(PostgresEngine.applicationName(schema: schema))])
            guard try busy?.int("n") == 0 else { return false }
        }
        return true
    }

    /// The same settings as `awsEnvironment`, typed, for this process's own store.
    static func s3Configuration(endpoint: String) -> S3Configuration {
        S3Configuration(credentials: SigV4Credentials(accessKeyID: "test", secretAccessKey: "test"), region: "us-east-1", endpoint: endpoint)
    }

    static func awsEnvironment(endpoint: String) -> [String: String] {
        ["AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"]
    }

    // MARK: - Processes

    /// The environment of a `pulse-video` child: this schema and bucket (moto's http:// endpoint,
    /// with no PULSE_ALLOW_HTTP: the endpoint the operator configured is enough), small fast encodes
    /// (1 s segments and chunks, ultrafast), a 3 s lease; `overrides` win (an empty value unsets).
    func environment(_ overrides: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PULSE_") && !$0.key.hasPrefix("AWS_") }
        environment.merge(Self.awsEnvironment(endpoint: motoEndpoint)) { $1 }
        environment.merge([
            "PULSE_DATABASE_URL": databaseURL,
            "PULSE_STORAGE_URL": "s3://\(bucket)",
            "PULSE_DATA_DIR": dataDirectory,
            "PULSE_WORK_DIR": workDirectory,
            "PULSE_SEGMENT_SECONDS": "1",
            "PULSE_CHUNK_SECONDS": "1",
            "PULSE_X264_PRESET": "ultrafast",
            "PULSE_JOB_LEASE_SECONDS": "3",
            // One job at a time, so a test knows what is in flight (the default is 2: the first
            // rendition beside the ladder).
            "PULSE_WORKER_CONCURRENCY": "1",
            "PULSE_LOG_LEVEL": "info",
        ]) { $1 }
        for (key, value) in overrides {
            environment[key] = value.isEmpty ? nil : value
        }
        return environment
    }

    /// Starts `pulse-video ARGUMENTS` in the background; killed when the test ends.
    @discardableResult
    func startPulse(_ name: String, _ arguments: [String], environment overrides: [String: String] = [:]) throws -> ChildProcess {
        try track(ChildProcess(name: name, executable: try TestServices.pulseVideo, arguments: arguments, environment: environment(overrides), logDirectory: logDirectory))
    }

    /// Runs `pulse-video ARGUMENTS` to its end.
    func runPulse(_ arguments: [String], environment overrides: [String: String] = [:], timeout: Duration = .seconds(120)) async throws -> CommandResult {
        try await runCommand(try TestServices.pulseVideo, arguments, environment: environment(overrides), logDirectory: logDirectory, timeout: timeout)
    }

    func track(_ child: ChildProcess) -> ChildProcess {
        children.withLock { $0.append(child) }
        return child
    }

    func killAll() {
        for child in children.withLock({ $0 }) { child.killNow() }
    }

    /// The stderr tails of every process this test started, for failure messages.
    func logs() -> String {
        children.withLock { $0 }.map { $0.stderrTail() }.joined(separator: "\n")
    }

    // MARK: - Proxy

    /// Starts `scripts/testing/tcp_proxy.py` in front of moto (on `port`, or a free one), logging
    /// every HTTP request to `requestLog` if given.
    func startProxy(port: Int = 0, requestLog: String? = nil) async throws -> TCPProxy {
        let target = try #require(URL(string: motoEndpoint)?.port.map { "127.0.0.1:\($0)" }, "moto endpoint \(motoEndpoint) has no port")
        var arguments = [TestServices.proxyScript, "--target", target, "--port", "\(port)"]
        if let requestLog { arguments += ["--log", requestLog] }
        let child = track(try ChildProcess(name: "proxy", executable: "/usr/bin/env", arguments: ["python3"] + arguments, environment: ProcessInfo.processInfo.environment, logDirectory: logDirectory))
        let listening = try await waitFor("the proxy to listen", timeout: .seconds(15), context: { child.stderrTail() }) { () -> Int? in
            if child.exitStatus != nil { throw TimeoutError(timeout: .zero, what: "the proxy (it exited)", context: child.stderrTail()) }
            return child.stdout.split(separator: "\n").first { $0.hasPrefix("LISTENING ") }.flatMap { Int($0.dropFirst("LISTENING ".count)) }
        }
        return TCPProxy(process: child, port: listening)
    }

    // MARK: - Storage and assets

    /// Copies a local file into the bucket.
    func upload(_ path: String, key: String) async throws {
        try await place.store.put(fileAt: path, key: key, contentType: "video/mp4", mode: .copy)
    }

    /// `pulse-video submit KEY`: the new asset's id.
    func submit(_ key: String) async throws -> UUID {
        let result = try await runPulse(["submit", key], timeout: .seconds(60))
        try #require(result.status == 0, "submit \(key) exited \(result.status): \(result.stderr)")
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return try #require(UUID(uuidString: text), "submit printed \(text), not an asset id")
    }

    /// Waits until the asset is `ready` or `failed`.
    func waitForTerminal(_ id: UUID, timeout: Duration) async throws -> Asset {
        try await place.waitForTerminal(id, timeout: timeout, context: { self.logs() })
    }

    /// Waits until no job is queued or running. An asset is `ready` a moment before its finalize
    /// job has deleted the original and been acknowledged; stopping a worker in between would
    /// (rightly) hand that job back to the queue.
    func waitForQueueToDrain(timeout: Duration) async throws {
        try await waitUntil("every job to be acknowledged", timeout: timeout, interval: .milliseconds(100), context: { self.logs() }) {
            try await place.queue.pendingCount() == 0
        }
    }

    func job(_ jobs: [Job], _ kind: JobKind, _ index: Int? = nil) -> Job? {
        jobs.first { $0.kind == kind && $0.chunkIndex == index }
    }
}

/// The proxy process and the port it listens on.
struct TCPProxy: Sendable {
    let process: ChildProcess
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }
}

/// One HTTP request as the proxy logged it.
struct ProxiedRequest: Sendable, Hashable {
    var method: String
    var path: String
    var query: String
    var range: String?
}

func proxiedRequests(_ logFile: String) -> [ProxiedRequest] {
    let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { line in
        // <epoch> <connection> <METHOD> <target> range=<value>
        let fields = line.split(separator: " ", maxSplits: 4)
        guard fields.count == 5 else { return nil }
        let target = String(fields[3])
        let parts = target.split(separator: "?", maxSplits: 1)
        let range = String(fields[4].dropFirst("range=".count))
        return ProxiedRequest(method: String(fields[2]), path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "", range: range == "-" ? nil : range)
    }
}

/// Runs `body` with a fresh fixture; afterwards kills every process it started, drops the schema,
/// empties and deletes the bucket and removes the folders (kept with `PULSE_KEEP_TEST_DIRS=1`).
func withFixture<T: Sendable>(_ body: (Fixture) async throws -> T) async throws -> T {
    let name = uniqueName()
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-it-\(name)").path
    for folder in ["data", "work", "logs"] {
        try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
    }
    let schema = "it_\(name)"
    let bucket = "pulse-it-\(name)"
    let base = try TestServices.require("PULSE_TEST_POSTGRES_URL")
    let databaseURL = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
    let moto = try TestServices.plainEndpoint
    let created = try await runCommand("/usr/bin/env", ["curl", "-sS", "-f", "-X", "PUT", "\(moto)/\(bucket)"], logDirectory: "\(root)/logs", timeout: .seconds(30))
    try #require(created.status == 0, "could not create bucket \(bucket): \(created.stderr)")

    let result: Result<T, any Error> = await withDatabaseResult(url: databaseURL) { database in
        _ = try await migrate(database, logger: TestServices.logger)
        let fixture = try Fixture(root: root, schema: schema, bucket: bucket, databaseURL: databaseURL, motoEndpoint: moto, database: database)
        defer { fixture.killAll() }
        do {
            return try await body(fixture)
        } catch {
            fixture.killAll()
            print("[\(schema)] failed: \(error)\n\(fixture.logs())")
            throw error
        }
    }

    // Cleanup, best effort: a failure here must not hide the test's own result.
    _ = try? await withDatabase(url: base, logger: TestServices.logger) { database in
        // The schema name is "it_" and hex digits: a plain identifier.
        try await database.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }
    if let store = try? makeObjectStore(url: .s3(bucket: bucket, prefix: ""), s3: Fixture.s3Configuration(endpoint: moto), logger: TestServices.logger) {
        for object in (try? await store.list(prefix: "")) ?? [] { try? await store.delete(key: object.key) }
    }
    _ = try? await runCommand("/usr/bin/env", ["curl", "-sS", "-X", "DELETE", "\(moto)/\(bucket)"], logDirectory: "\(root)/logs", timeout: .seconds(30))
    if ProcessInfo.processInfo.environment["PULSE_KEEP_TEST_DIRS"] != "1" {
        try? FileManager.default.removeItem(atPath: root)
    }
    return try result.get()
}

private func withDatabaseResult<T: Sendable>(url: String, _ body: (any Database) async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await withDatabase(url: url, logger: TestServices.logger, body))
    } catch {
        return .failure(error)
    }
}

/// Object keys whose S3 request our client retried, from workers' logs (`s3 request retried`).
/// A retried PUT reaches the server twice without the work being done twice: the upload counts
/// below allow exactly that, and nothing else.
func retriedKeys(_ logs: [String]) -> Set<String> {
    var keys = Set<String>()
    for log in logs {
        for line in log.split(separator: "\n") where line.contains("s3 request retried") {
            if let field = line.split(separator: " ").first(where: { $0.hasPrefix("storage.key=") }) {
                keys.insert(String(field.dropFirst("storage.key=".count)))
            }
        }
    }
    return keys
}
