import Foundation
@testable import PulseAPI
import Testing

/// The page's security headers, and `/storage/` URLs accepted only as they were issued.
@Suite("Page headers and storage URL spellings")
struct PageAndStorageURLTests {
    @Test("the page and its files carry a Content-Security-Policy without inline script, and Referrer-Policy: no-referrer")
    func pageHeaders() async throws {
        try await TestServer.with(worker: false) { server in
            for path in ["/", "/page/app.js", "/page/style.css"] {
                let result = try await send(.GET, server.baseURL + path)
                #expect(result.status == 200, "\(path)")
                #expect(result.headers["Referrer-Policy"] == ["no-referrer"], "\(path)")
                let policy = try #require(result.headers["Content-Security-Policy"].first, "\(path)")
                let directives = Dictionary(uniqueKeysWithValues: policy.split(separator: ";").map { directive in
                    let words = directive.split(separator: " ").map(String.init)
                    return (words[0], Array(words.dropFirst()))
                })
                #expect(directives["default-src"] == ["'none'"])
                #expect(directives["script-src"] == ["'self'"])
                #expect(directives["frame-ancestors"] == ["'none'"])
                #expect(directives["media-src"]?.contains("blob:") == true && directives["media-src"]?.contains("'self'") == true)
                #expect(directives["connect-src"]?.contains("'self'") == true)
                let port = try #require(URLComponents(string: server.baseURL)?.port)
                #expect(directives["connect-src"]?.contains { $0.hasPrefix("ws://") && $0.hasSuffix(":\(port)") } == true, "\(policy)")
                #expect(!policy.contains("unsafe"), "\(policy)")
            }
        }
    }

    @Test("a storage URL is taken only as issued: +N, 0N or an upper-case signature is refused")
    func storageURLSpellings() async throws {
        try await TestServer.with(worker: false) { server in
            let url = try HostileUploadTests.uploadURL(try await server.createAsset())
            let parts = try #require(URLComponents(string: url))
            let expires = try #require(parts.queryItems?.first { $0.name == "expires" }?.value)
            let signature = try #require(parts.queryItems?.first { $0.name == "signature" }?.value)
            let base = url.components(separatedBy: "?")[0]
            for query in [
                "expires=+\(expires)&signature=\(signature)",
                "expires=%2B\(expires)&signature=\(signature)",
                "expires=0\(expires)&signature=\(signature)",
                "expires=\(expires)&signature=\(signature.uppercased())",
            ] {
                let result = try await send(.PUT, "\(base)?\(query)", body: Data(repeating: 1, count: 100))
                #expect(result.status == 403 && result.errorCode == "ERR_INVALID_SIGNATURE", "\(query): \(result.status)")
            }
            #expect(try await send(.PUT, url, body: Data(repeating: 1, count: 100)).status == 200)
        }
    }
}
