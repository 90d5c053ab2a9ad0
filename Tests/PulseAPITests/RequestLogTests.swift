import Foundation
import Logging
import PulseAPI
import Synchronization
import Testing

/// Every log event, as one line of text: message and metadata (the handler's own and the event's).
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    /// A logger that writes here, at `level`.
    func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "capture") { _ in CapturingLogHandler(capture: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }
}

private struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(event.message) \(fields)")
    }
}

@Suite("Request log")
struct RequestLogTests {
    @Test("a request is logged with method, path, status and duration, and never its query string")
    func noQueryString() async throws {
        let capture = LogCapture()
        let secret = "secret-\(UUID().uuidString.lowercased())"
        try await TestServer.with(worker: false, logger: capture.logger()) { server in
            let id = UUID().uuidString.lowercased()
            let result = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)?token=\(secret)&signature=\(secret)")
            #expect(result.status == 401 || result.status == 404)
        }
        let lines = capture.all
        let request = try #require(lines.first { $0.contains("request") && $0.contains("http.path=/v1/assets/") }, "no request line in \(lines)")
        #expect(request.hasPrefix("info "))
        #expect(request.contains("http.method=GET"))
        #expect(request.contains("http.status=401") || request.contains("http.status=404"))
        #expect(request.contains("http.duration_ms="))
        #expect(!lines.contains { $0.contains(secret) || $0.contains("secret-") }, "a log line holds the query: \(lines.filter { $0.contains("secret-") })")
    }
}
