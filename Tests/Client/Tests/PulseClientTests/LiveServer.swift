import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import OpenAPIRuntime
import OpenAPIURLSession

/// A running `pulse-video serve` (embedded worker, SQLite, local storage) on a free port over a
/// fresh data folder: the project's built binary, started the way the browser tests start it.
final class LiveServer: Sendable {
    /// The API key the server is started with.
    static let apiKey = "client-test-key"

    /// The repository: this file is `<repo>/Tests/Client/Tests/PulseClientTests/LiveServer.swift`.
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { url.deleteLastPathComponent() }
        return url
    }()

    /// `<repo>/.build/debug/pulse-video`, built by the main package's `swift build`.
    static let binary = repository.appendingPathComponent(".build/debug/pulse-video")

    /// The test clips: `PULSE_TEST_MEDIA_DIR`, else `<repo>/TestMedia`.
    static let media: URL = {
        if let dir = ProcessInfo.processInfo.environment["PULSE_TEST_MEDIA_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return repository.appendingPathComponent("TestMedia")
    }()

    /// The bytes of a clip from the test media; missing media is a failure, never a skip.
    static func clip(_ name: String) throws -> Data {
        let url = media.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Failure("\(url.path) is missing: run scripts/gen-test-media.sh")
        }
        return try Data(contentsOf: url)
    }

    /// The base URL the server printed (`pulse-video listening on URL`).
    let url: URL
    private let process: Process
    private let data: URL
    private let log: URL

    private init(url: URL, process: Process, data: URL, log: URL) {
        self.url = url
        self.process = process
        self.data = data
        self.log = log
    }

    /// Starts the server with the process's environment less every `PULSE_`/`AWS_` variable, plus
    /// `PULSE_API_KEY`, and waits (up to 60 s) for its listening line.
    static func start() throws -> LiveServer {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw Failure("\(binary.path) is missing: run `swift build` in \(repository.path) first")
        }
        let data = FileManager.default.temporaryDirectory
            .appendingPathComponent("pulse-client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let log = data.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("PULSE_") && !$0.key.hasPrefix("AWS_")
        }
        environment["PULSE_API_KEY"] = apiKey
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--data", data.path, "--port", "0"]
        process.environment = environment
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"pulse-video listening on (http://\S+)"#, options: .regularExpression) {
                let line = String(text[range])
                let address = String(line.dropFirst("pulse-video listening on ".count))
                return LiveServer(url: URL(string: address)!, process: process, data: data, log: log)
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw Failure("serve did not start:\n\(text.suffix(3000))")
    }

    /// Stops the server and removes its data folder.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: data)
    }

    /// Runs `body` against a fresh server, stopping it afterwards whatever happens.
    static func with<T>(_ body: (LiveServer) async throws -> T) async throws -> T {
        let server = try start()
        do {
            let result = try await body(server)
            server.stop()
            return result
        } catch {
            server.stop()
            throw error
        }
    }

    /// A generated client that sends `bearer` (the API key unless given an asset token).
    func client(bearer: String? = LiveServer.apiKey) -> Client {
        Client(
            serverURL: url,
            configuration: .pulse,
            transport: URLSessionTransport(),
            middlewares: bearer.map { [BearerMiddleware(token: $0)] } ?? []
        )
    }
}

/// Adds `Authorization: Bearer <token>` to every request (the generator leaves security schemes
/// to middleware).
struct BearerMiddleware: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// A test failure with a message.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// PUTs `body` to a presigned URL with its headers (`/storage` is outside the contract, so this
/// is plain URLSession); returns the status and the `ETag` header.
func presignedPUT(_ url: String, headers: [String: String], body: Data) async throws -> (Int, String?) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = "PUT"
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (_, response) = try await URLSession.shared.upload(for: request, from: body)
    let http = response as! HTTPURLResponse
    return (http.statusCode, http.value(forHTTPHeaderField: "ETag"))
}
