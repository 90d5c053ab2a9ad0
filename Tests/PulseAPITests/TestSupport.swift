import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
@testable import PulseAPI
import PulseDatabase
import PulseJobs
import PulseService
import PulseTestSupport
import ServiceLifecycle
import Synchronization
import Testing

struct MissingPrerequisite: Error, CustomStringConvertible {
    var description: String
}

/// A live server on port 0 over SQLite and local storage in a temporary folder, with an embedded
/// worker unless told otherwise, run in its own `ServiceGroup` like `serve` does.
struct TestServer: Sendable {
    let baseURL: String
    let apiKey: String
    let server: PulseServer
    let runtime: PulseRuntime
    let dataDirectory: String

    var wsBase: String { "ws" + baseURL.dropFirst("http".count) }

    static func with(
        worker: Bool = true,
        logger: Logger? = nil,
        configure: (inout APIConfiguration) -> Void = { _ in },
        configureAll: (inout PulseConfiguration) -> Void = { _ in },
        _ body: (TestServer) async throws -> Void
    ) async throws {
        try await withTestFolder("pulse-api") { data in
            let logger = logger ?? TestServices.logger
            // The embedded default (SQLite + local folder) with its documented defaults, whatever the
            // shell's environment says; wired by the same `buildApplication` as `serve`.
            var configuration = PulseConfiguration(dataDirectory: data)
            configuration.api.apiKey = "test-key-\(UUID().uuidString.lowercased())"
            configuration.api.port = 0
            configuration.api.eventRecheckInterval = .seconds(2)
            // The start-up deadline is for an operator's unreachable database (its own tests set
            // it short); a whole suite starting servers at once on two cores can take longer.
            configuration.startupTimeout = .seconds(180)
            configure(&configuration.api)
            configureAll(&configuration)
            configuration.embeddedWorkers = worker ? 1 : 0
            configuration.worker.pollInterval = .milliseconds(100)
            let (addresses, addressContinuation) = AsyncStream.makeStream(of: String.self)
            let application = try await buildApplication(
                configuration, role: .serve, logger: logger, metrics: APIMetrics(),
                onListening: { addressContinuation.yield($0) }
            )
            let server = try #require(application.server)
            let runtime = application.runtime
            let group = ServiceGroup(configuration: .init(services: application.services, logger: logger))

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let address = try await firstValue(addresses, within: .seconds(30), what: "the server to listen")
                let testServer = TestServer(baseURL: address, apiKey: server.apiKey, server: server, runtime: runtime, dataDirectory: data)
                let outcome: Result<Void, any Error>
                do { outcome = .success(try await body(testServer)) } catch { outcome = .failure(error) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                try outcome.get()
            }
        }
    }
}

/// The first element of a stream, or a failure after `timeout`.
func firstValue<T: Sendable>(_ stream: AsyncStream<T>, within timeout: Duration, what: String) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            for await value in stream { return value }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let value = try await group.next() ?? nil else { throw TimeoutError(timeout: timeout, what: what) }
        return value
    }
}

// MARK: - HTTP

/// A response read whole (test responses are small).
struct HTTPResult: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// `error.code` of an error body.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

func send(
    _ method: HTTPMethod, _ url: String, bearer: String? = nil, headers: [(String, String)] = [],
    body: Data? = nil, file: String? = nil
) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    if let file {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        request.body = .bytes(ByteBuffer(bytes: data))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let bytes = try await response.body.collect(upTo: 64 << 20)
    return HTTPResult(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
}

/// Polls `GET url` until the asset's status is `status`; the asset then. An asset that fails
/// instead ends the wait at once.
func waitForStatus(_ url: String, bearer: String, _ status: String, timeout: Duration) async throws -> [String: Any] {
    try await waitFor("the asset to become \(status)", timeout: timeout, interval: .milliseconds(200)) {
        let asset = try await send(.GET, url, bearer: bearer).json
        try #require(asset["status"] as? String != "failed" || status == "failed", "the asset failed: \(asset)")
        return asset["status"] as? String == status ? asset : nil
    }
}

func json(_ object: [String: Any]) -> Data {
    try! JSONSerialization.data(withJSONObject: object)
}

extension TestServer {
    /// Creates an asset with the API key; returns the create response.
    func createAsset(filename: String = "clip.mp4", size: Int? = nil) async throws -> [String: Any] {
        var body: [String: Any] = ["filename": filename, "content_type": "video/mp4"]
        if let size { body["size"] = size }
        let result = try await send(.POST, "\(baseURL)/v1/assets", bearer: apiKey, body: json(body))
        #expect(result.status == 201, "create: \(result.text)")
        return result.json
    }

    /// PUTs a file to an upload URL from `createAsset`.
    func upload(_ created: [String: Any], file: String) async throws -> HTTPResult {
        let upload = created["upload"] as? [String: Any] ?? [:]
        let headers = (upload["headers"] as? [String: String] ?? [:]).map { ($0.key, $0.value) }
        return try await send(.PUT, upload["url"] as? String ?? "", headers: headers, file: file)
    }
}

// MARK: - WebSocket

/// Every text message of one events WebSocket, until the server closes it.
final class EventLog: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ text: String) { state.withLock { $0.append(text) } }
    var texts: [String] { state.withLock { $0 } }
    var events: [[String: Any]] { texts.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] } }
    var types: [String] { events.map { $0["type"] as? String ?? "?" } }
}

/// Connects and records messages until the server closes; returns the close frame.
@discardableResult
func followEvents(_ url: String, into log: EventLog) async throws -> WebSocketCloseFrame? {
    try await WebSocketClient.connect(url: url, logger: TestServices.logger) { inbound, _, _ in
        for try await message in inbound.messages(maxSize: 1 << 20) {
            if case .text(let text) = message { log.append(text) }
        }
    }
}
