import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import NIOHTTP1
@testable import PulseAPI
import Testing

/// What the API refuses, and how: status, stable code, and nothing internal in the message.
@Suite("API refusals")
struct RefusalTests {
    @Test("every /v1 call needs the API key or the asset's own token")
    func authentication() async throws {
        try await TestServer.with(worker: false) { server in
            let base = server.baseURL
            let a = try await server.createAsset(filename: "a.mp4")
            let b = try await server.createAsset(filename: "b.mp4")
            let idA = try #require(a["id"] as? String)
            let idB = try #require(b["id"] as? String)
            let tokenA = try #require(a["token"] as? String)

            // No credentials, a wrong key, a malformed or forged token.
            for bearer in [nil, "wrong-key", "at1.123.not-a-token", forged(tokenA)] as [String?] {
                let result = try await send(.GET, "\(base)/v1/assets/\(idA)", bearer: bearer)
                #expect(result.status == 401 && result.errorCode == "ERR_UNAUTHORIZED", "\(bearer ?? "none"): \(result.text)")
                #expect(result.headers.first(name: "www-authenticate") == "Bearer")
            }
            #expect(try await send(.POST, "\(base)/v1/assets", body: json(["filename": "x.mp4"])).status == 401)
            #expect(try await send(.GET, "\(base)/v1/assets").status == 401)
            #expect(try await send(.GET, "\(base)/v1/assets?token=\(tokenA)").status == 403, "a token cannot list")
            // The API key is accepted in the header only, never in the URL.
            #expect(try await send(.GET, "\(base)/v1/assets/\(idA)?token=\(server.apiKey)").status == 401)

            // A's token opens A, in the header or the query string...
            #expect(try await send(.GET, "\(base)/v1/assets/\(idA)", bearer: tokenA).status == 200)
            #expect(try await send(.GET, "\(base)/v1/assets/\(idA)?token=\(tokenA)").status == 200)
            // ...but nothing of B: status, complete, events, and no asset creation or deletion.
            let wrongStatus = try await send(.GET, "\(base)/v1/assets/\(idB)", bearer: tokenA)
            #expect(wrongStatus.status == 403 && wrongStatus.errorCode == "ERR_FORBIDDEN")
            #expect(try await send(.POST, "\(base)/v1/assets/\(idB)/complete", bearer: tokenA).status == 403)
            #expect(try await send(.GET, "\(base)/v1/assets/\(idB)/events?token=\(tokenA)").status == 403)
            #expect(try await send(.POST, "\(base)/v1/assets", bearer: tokenA, body: json(["filename": "x.mp4"])).status == 403)
            #expect(try await send(.DELETE, "\(base)/v1/assets/\(idA)", bearer: tokenA).status == 403)

            // The WebSocket upgrade is refused for B with A's token, and without a token.
            await #expect(throws: (any Error).self) {
                try await followEvents("\(server.wsBase)/v1/assets/\(idB)/events?token=\(tokenA)", into: EventLog())
            }
            await #expect(throws: (any Error).self) {
                try await followEvents("\(server.wsBase)/v1/assets/\(idA)/events", into: EventLog())
            }
            // Plain HTTP on the events path with valid credentials: it is a WebSocket.
            #expect(try await send(.GET, "\(base)/v1/assets/\(idA)/events?token=\(tokenA)").status == 426)

            // An expired token (signed with the server's own secret) is told apart.
            let expired = server.server.tokenSigner.token(for: UUID(uuidString: idA)!, expires: Int64(Date().timeIntervalSince1970) - 10)
            let late = try await send(.GET, "\(base)/v1/assets/\(idA)", bearer: expired)
            #expect(late.status == 401 && late.errorCode == "ERR_TOKEN_EXPIRED")
        }
    }

    @Test("bad JSON, missing fields, unknown ids and routes")
    func badRequests() async throws {
        try await TestServer.with(worker: false) { server in
            let base = server.baseURL
            let key = server.apiKey
            let notJSON = try await send(.POST, "\(base)/v1/assets", bearer: key, body: Data("{filename:".utf8))
            #expect(notJSON.status == 400 && notJSON.errorCode == "ERR_INVALID_JSON")
            let missing = try await send(.POST, "\(base)/v1/assets", bearer: key, body: json(["size": 10]))
            #expect(missing.status == 400 && missing.errorCode == "ERR_INVALID_REQUEST")
            let wrongType = try await send(.POST, "\(base)/v1/assets", bearer: key, body: json(["filename": 12]))
            #expect(wrongType.status == 400 && wrongType.errorCode == "ERR_INVALID_REQUEST")
            let emptyName = try await send(.POST, "\(base)/v1/assets", bearer: key, body: json(["filename": "  "]))
            #expect(emptyName.status == 400 && emptyName.errorCode == "ERR_INVALID_REQUEST")
            let badType = try await send(.POST, "\(base)/v1/assets", bearer: key, body: json(["filename": "a.mp4", "content_type": "video"]))
            #expect(badType.status == 400)
            let negative = try await send(.POST, "\(base)/v1/assets", bearer: key, body: json(["filename": "a.mp4", "size": -1]))
            #expect(negative.status == 400)

            let unknown = UUID().uuidString.lowercased()
            for (method, path) in [(HTTPMethod.GET, "/v1/assets/\(unknown)"), (.POST, "/v1/assets/\(unknown)/complete"), (.DELETE, "/v1/assets/\(unknown)"), (.GET, "/v1/assets/not-a-uuid")] {
                let result = try await send(method, base + path, bearer: key)
                #expect(result.status == 404 && result.errorCode == "ERR_NOT_FOUND", "\(method) \(path): \(result.text)")
            }
            let route = try await send(.GET, "\(base)/v2/nothing", bearer: key)
            #expect(route.status == 404 && route.errorCode == "ERR_NOT_FOUND")
            #expect(try await send(.GET, "\(base)/v1/assets?limit=0", bearer: key).status == 400)
            #expect(try await send(.GET, "\(base)/v1/assets?cursor=garbage", bearer: key).status == 400)
            #expect(try await send(.GET, "\(base)/media/\(unknown)/master.m3u8").status == 404)
            #expect(try await send(.GET, "\(base)/media/\(unknown)/../../pulse.sqlite").status == 404)

            // Every error body is exactly {error: {code, message}}.
            #expect(notJSON.json.keys.sorted() == ["error"])
            #expect(((notJSON.json["error"] as? [String: Any])?.keys.sorted()) == ["code", "message"])
        }
    }

    @Test("size limits: declared, streamed and found at complete; complete is idempotent")
    func limitsAndIdempotentComplete() async throws {
        try await TestServer.with(worker: false, configure: { $0.maxUploadBytes = 1000 }) { server in
            let base = server.baseURL
            let declared = try await send(.POST, "\(base)/v1/assets", bearer: server.apiKey, body: json(["filename": "big.mp4", "size": 1001]))
            #expect(declared.status == 413 && declared.errorCode == "ERR_UPLOAD_TOO_LARGE")

            // A body over the limit is cut off while streaming and never becomes an object.
            let created = try await server.createAsset(filename: "big.mp4", size: 10)
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let url = try #require((created["upload"] as? [String: Any])?["url"] as? String)
            let tooBig = try await send(.PUT, url, body: Data(repeating: 7, count: 5000))
            #expect(tooBig.status == 413)
            #expect(try await server.runtime.store.list(prefix: "uploads/\(id)/").isEmpty)

            // Signatures: another key, a changed expiry, or a GET with a PUT signature are refused.
            let otherKey = url.replacingOccurrences(of: "big.mp4", with: "other.mp4")
            #expect(try await send(.PUT, otherKey, body: Data([1])).errorCode == "ERR_INVALID_SIGNATURE")
            let shifted = url.replacingOccurrences(of: "expires=", with: "expires=1")
            #expect(try await send(.PUT, shifted, body: Data([1])).status == 403)
            #expect(try await send(.GET, url).status == 403)

            // Within the limit: stored; complete twice gives the same 202 and one prepare job.
            #expect(try await send(.PUT, url, body: Data(repeating: 1, count: 900)).status == 200)
            let first = try await send(.POST, "\(base)/v1/assets/\(id)/complete", bearer: token)
            let second = try await send(.POST, "\(base)/v1/assets/\(id)/complete", bearer: token)
            #expect(first.status == 202 && second.status == 202)
            #expect(first.json["status"] as? String == "queued" && second.json["status"] as? String == "queued")
            let jobs = try await server.runtime.database.query("SELECT kind FROM jobs", [])
            #expect(jobs.count == 1)

            // An object that grew past the limit behind our back (e.g. a direct S3 upload) is refused at complete.
            let other = try await server.createAsset(filename: "sneaky.mp4")
            let otherID = try #require(other["id"] as? String)
            let key = "uploads/\(otherID)/sneaky.mp4"
            let local = server.dataDirectory + "/sneaky.bin"
            FileManager.default.createFile(atPath: local, contents: Data(repeating: 0, count: 2000))
            try await server.runtime.store.put(fileAt: local, key: key)
            let refused = try await send(.POST, "\(base)/v1/assets/\(otherID)/complete", bearer: server.apiKey)
            #expect(refused.status == 413 && refused.errorCode == "ERR_UPLOAD_TOO_LARGE")
            let after = try await send(.GET, "\(base)/v1/assets/\(otherID)", bearer: server.apiKey)
            #expect(after.json["status"] as? String == "failed")
            #expect((after.json["error"] as? [String: Any])?["code"] as? String == "ERR_UPLOAD_TOO_LARGE")
        }
    }

    @Test("health, readiness, metrics, the page, CORS preflight")
    func operations() async throws {
        try await TestServer.with(worker: false) { server in
            let base = server.baseURL
            #expect(try await send(.GET, "\(base)/healthz").json["status"] as? String == "ok")
            let ready = try await send(.GET, "\(base)/readyz")
            #expect(ready.status == 200 && ready.json["database"] as? String == "ok" && ready.json["storage"] as? String == "ok")
            _ = try await server.createAsset()
            let metrics = try await send(.GET, "\(base)/metrics")
            #expect(metrics.status == 200)
            for name in ["pulse_websockets_open", "pulse_queue_depth", "pulse_assets{status=\"awaiting_upload\"} 1", "pulse_ready_assets_processing_seconds", "pulse_api_assets_created_total 1"] {
                #expect(metrics.text.contains(name), "metrics show \(name)")
            }
            let page = try await send(.GET, "\(base)/")
            #expect(page.status == 200 && page.headers.first(name: "content-type")?.hasPrefix("text/html") == true)
            #expect(page.text.contains("/page/app.js"))
            #expect(try await send(.GET, "\(base)/page/app.js").status == 200)
            #expect(try await send(.GET, "\(base)/page/missing.js").status == 404)
            let preflight = try await send(.OPTIONS, "\(base)/v1/assets", headers: [("Origin", "https://chat.example"), ("Access-Control-Request-Method", "POST")])
            #expect(preflight.headers.first(name: "access-control-allow-origin") == "*")
            #expect(preflight.headers.first(name: "access-control-allow-headers")?.lowercased().contains("authorization") == true)
        }
    }

    /// The token with one signature digit changed.
    private func forged(_ token: String) -> String {
        var characters = Array(token)
        characters[characters.count - 1] = characters.last == "0" ? "1" : "0"
        return String(characters)
    }
}
