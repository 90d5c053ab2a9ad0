import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PulseSupport
import SigV4

/// One S3 call before signing. The body is a factory because a retry must send it again from the start.
struct S3Request: Sendable {
    var method: HTTPMethod
    /// Decoded path, bucket included for path-style.
    var path: String
    var query: [String: String] = [:]
    /// Headers sent and signed.
    var headers: [String: String] = [:]
    var payload: SigV4Payload = .empty
    var body: (@Sendable () -> HTTPClientRequest.Body)? = nil
    var timeout: Duration
}

extension S3Store {
    /// Signs and sends a request, retrying server errors, throttling and connection failures with
    /// jittered backoff. Returns a 2xx response (or a 404 when `notFoundIsAnswer`), whose body the
    /// caller must read; every other outcome becomes a ``StorageError``.
    func send(_ request: S3Request, key: String?, notFoundIsAnswer: Bool = false) async throws -> HTTPClientResponse {
        let policy = configuration.retry
        var attempt = 1
        while true {
            let failure: StorageError
            do {
                let response = try await transport.execute(
                    httpRequest(for: request), timeout: request.timeout, logger: logger
                )
                let status = Int(response.status.code)
                if (200..<300).contains(status) || (notFoundIsAnswer && status == 404) {
                    logger.debug("s3 request", metadata: metadata(request, key, status: status, attempt: attempt))
                    return response
                }
                failure = try await Self.error(from: response, key: key)
            } catch let error as StorageError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Connection refused or reset, TLS failure, timeout: worth another try.
                failure = StorageError(.unreachable, "cannot reach the S3 endpoint: \(Self.describe(error))", key: key)
            }
            guard Self.isRetryable(failure), policy.retries(afterAttempt: attempt) else {
                logger.info("s3 request failed", metadata: metadata(request, key, error: failure, attempt: attempt))
                throw failure
            }
            let delay = policy.wait(afterAttempt: attempt)
            logger.info("s3 request retried", metadata: metadata(request, key, error: failure, attempt: attempt))
            try await policy.sleep(delay)
            attempt += 1
        }
    }

    private func httpRequest(for request: S3Request) -> HTTPClientRequest {
        let encodedQuery = request.query
            .map { (S3URIEncoding.encodeQueryComponent($0.key), S3URIEncoding.encodeQueryComponent($0.value)) }
            .sorted { $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
        var http = HTTPClientRequest(url: addressing.url(path: request.path, encodedQuery: encodedQuery))
        http.method = request.method
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        let signed = signer.signHeaders(
            method: request.method.rawValue, host: addressing.host, path: request.path, query: request.query,
            headers: request.headers, payload: request.payload, date: now()
        )
        for header in signed { http.headers.add(name: header.name, value: header.value) }
        if let body = request.body { http.body = body() }
        return http
    }

    /// Reads S3's `<Error>` document (when there is one; HEAD has none) into our error.
    static func error(from response: HTTPClientResponse, key: String?) async throws -> StorageError {
        let status = Int(response.status.code)
        var text = ""
        // Error documents are small; a huge body is not one and is not worth reading.
        if let body = try? await response.body.collect(upTo: 64 << 10) {
            text = String(buffer: body)
        }
        let xml = text[...]
        let serverCode = S3XML.value("Code", in: xml)
        let message = S3XML.value("Message", in: xml) ?? "HTTP \(status)"
        return StorageError(
            .fromS3(code: serverCode, status: status), message, key: key, serverCode: serverCode ?? "HTTP \(status)"
        )
    }

    static func isRetryable(_ error: StorageError) -> Bool {
        switch error.code {
        case .unreachable, .serverError: return true
        default: return false
        }
    }

    private static func describe(_ error: any Error) -> String {
        // Never the request itself: its URL may carry a signature.
        String(describing: type(of: error)) + ": " + String(String(describing: error).prefix(200))
    }

    private func metadata(
        _ request: S3Request, _ key: String?, status: Int? = nil, error: StorageError? = nil, attempt: Int
    ) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "s3.method": "\(request.method.rawValue)",
            "s3.attempt": "\(attempt)",
        ]
        if let key { metadata["storage.key"] = "\(key)" }
        if let status { metadata["s3.status"] = "\(status)" }
        if let error {
            metadata["storage.error"] = "\(error.code)"
            if let code = error.serverCode { metadata["s3.error"] = "\(code)" }
        }
        return metadata
    }
}
