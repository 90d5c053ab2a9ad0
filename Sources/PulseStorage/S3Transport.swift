public import AsyncHTTPClient
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

extension HTTPClient {
    /// The client S3 stores use unless given one: AsyncHTTPClient's shared settings with no
    /// decompression. A store answers an object's bytes as stored: a playlist kept gzip-compressed
    /// stays compressed, as its `Content-Encoding` says, where the shared client would inflate it
    /// behind the header's back. Process-wide, like `.shared`, and never shut down.
    public static let storage: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
