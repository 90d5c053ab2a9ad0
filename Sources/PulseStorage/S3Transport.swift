import AsyncHTTPClient
import Logging
import NIOCore

/// The one call the S3 store makes to the network; a seam so tests can inject failures (503s,
/// dropped connections) in front of a real server.
protocol S3Transport: Sendable {
    func execute(_ request: HTTPClientRequest, timeout: Duration, logger: Logger) async throws -> HTTPClientResponse
}

/// The real transport: AsyncHTTPClient.
struct HTTPClientTransport: S3Transport {
    let client: HTTPClient

    func execute(_ request: HTTPClientRequest, timeout: Duration, logger: Logger) async throws -> HTTPClientResponse {
        try await client.execute(request, timeout: TimeAmount(timeout), logger: logger)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
