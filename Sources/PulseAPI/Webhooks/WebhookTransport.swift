import AsyncHTTPClient
import Foundation
import NIOCore
import PulseJobs
import PulseSupport

/// One attempt to deliver one message to one endpoint: the SSRF guard, then a signed POST that
/// must answer 2xx within the timeout (connection included). Redirects are not followed (a 3xx
/// is a failure: following one would leave the guard behind).
struct WebhookTransport: Sendable {
    let signer: WebhookSigner
    let addresses: AddressPolicy
    let timeout: Duration
    /// The clock for `webhook-timestamp` (Unix seconds).
    let now: @Sendable () -> Double

    /// How an attempt ended, before it is recorded.
    struct Result: Sendable {
        var statusCode: Int?
        var outcome: WebhookAttemptOutcome
        var error: String?
    }

    /// Answers are read (and dropped) up to this size, so a connection can be reused.
    static let maxResponseBytes = 64 * 1024

    func send(_ body: [UInt8], id: String, to endpoint: WebhookEndpoint) async -> Result {
        let address: IPAddress
        do {
            address = try await addresses.check(host: endpoint.host)
        } catch {
            return Result(statusCode: nil, outcome: error.code == .privateAddress ? .refused : .failed, error: error.code.rawValue)
        }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .init(timeout), read: .init(timeout)))
        // A refused connection is this attempt's answer: the retry policy waits, not the pool.
        configuration.connectionPool.retryConnectionEstablishment = false
        // Connect to the address the guard checked; TLS still verifies the host name.
        if IPAddress(endpoint.host) == nil { configuration.dnsOverride = [endpoint.host: address.description] }
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "pulse-video-webhooks")
        let timestamp = Int64(now().rounded(.down))
        for (name, value) in signer.headers(id: id, timestamp: timestamp, body: body) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let timeout = self.timeout
        let prepared = request
        do {
            let status = try await HTTPClient.withHTTPClient(configuration: configuration) { client in
                try await withDeadline(timeout, orThrow: HTTPClientError.deadlineExceeded) {
                    let response = try await client.execute(prepared, timeout: .init(timeout))
                    _ = try? await response.body.collect(upTo: Self.maxResponseBytes)
                    return Int(response.status.code)
                }
            }
            return (200...299).contains(status)
                ? Result(statusCode: status, outcome: .delivered, error: nil)
                : Result(statusCode: status, outcome: .failed, error: "http_status")
        } catch {
            return Result(statusCode: nil, outcome: .failed, error: Self.errorClass(error))
        }
    }

    /// A short, stable class of a transport error (the detail may name our network).
    static func errorClass(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout: return "timeout"
            case .remoteConnectionClosed, .cancelled: return "connect"
            default: break
            }
        }
        let text = String(describing: error).lowercased()
        if text.contains("ssl") || text.contains("tls") || text.contains("certificate") { return "tls" }
        if text.contains("connect") || text.contains("refused") || text.contains("reset") { return "connect" }
        return "other"
    }
}
